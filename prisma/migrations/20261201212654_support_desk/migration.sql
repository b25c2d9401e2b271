-- AlterTable
ALTER TABLE "messages" ADD COLUMN "deleted_at" DATETIME;
ALTER TABLE "messages" ADD COLUMN "edited_at" DATETIME;
ALTER TABLE "messages" ADD COLUMN "read_at" DATETIME;

-- CreateTable
CREATE TABLE "support_users" (
    "user_id" TEXT NOT NULL PRIMARY KEY,
    "banned_at" DATETIME,
    "ban_reason" TEXT,
    "closed_at" DATETIME,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

