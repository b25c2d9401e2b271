-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "agent_reaction" TEXT;

-- AlterTable
ALTER TABLE "support_users" ADD COLUMN     "closed_up_to_id" INTEGER,
ADD COLUMN     "reminded_for_message_id" INTEGER;

-- CreateTable
CREATE TABLE "agent_album_items" (
    "chat_id" BIGINT NOT NULL,
    "telegram_message_id" INTEGER NOT NULL,
    "media_group_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "photo_url" TEXT,
    "caption" TEXT NOT NULL DEFAULT '',
    "thread_id" INTEGER,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "agent_album_items_pkey" PRIMARY KEY ("chat_id","telegram_message_id")
);

-- CreateIndex
CREATE INDEX "agent_album_items_chat_id_media_group_id_idx" ON "agent_album_items"("chat_id", "media_group_id");

-- CreateIndex
CREATE INDEX "agent_album_items_delivered_at_idx" ON "agent_album_items"("delivered_at");
