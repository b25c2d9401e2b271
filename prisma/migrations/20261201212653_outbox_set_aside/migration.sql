-- DropIndex
DROP INDEX "outbox_lane_id_idx";

-- AlterTable
ALTER TABLE "outbox" ADD COLUMN "set_aside_at" DATETIME;
ALTER TABLE "outbox" ADD COLUMN "set_aside_reason" TEXT;

-- CreateIndex
CREATE INDEX "outbox_lane_set_aside_at_id_idx" ON "outbox"("lane", "set_aside_at", "id");

