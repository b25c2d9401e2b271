-- AlterTable
ALTER TABLE "messages" ADD COLUMN "telegram_chat_id" BIGINT;

-- CreateIndex
CREATE UNIQUE INDEX "messages_telegram_chat_id_telegram_message_id_key" ON "messages"("telegram_chat_id", "telegram_message_id");

