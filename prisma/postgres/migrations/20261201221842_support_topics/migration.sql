-- CreateTable
CREATE TABLE "support_topics" (
    "id" SERIAL NOT NULL,
    "user_id" TEXT NOT NULL,
    "chat_id" BIGINT NOT NULL,
    "message_thread_id" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'open',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "support_topics_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "support_topics_chat_id_user_id_state_idx" ON "support_topics"("chat_id", "user_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "support_topics_chat_id_message_thread_id_key" ON "support_topics"("chat_id", "message_thread_id");

