-- AlterTable
ALTER TABLE "processed_updates" ADD COLUMN     "claim_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "claimed_by" TEXT,
ADD COLUMN     "state" TEXT NOT NULL DEFAULT 'done';

