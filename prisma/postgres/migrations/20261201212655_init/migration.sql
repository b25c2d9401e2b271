-- CreateTable
CREATE TABLE "messages" (
    "id" SERIAL NOT NULL,
    "user_id" TEXT NOT NULL,
    "user_name" TEXT,
    "message" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "photo_urls" TEXT NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivery" TEXT,
    "telegram_message_id" INTEGER,
    "telegram_chat_id" BIGINT,
    "client_message_id" TEXT,
    "idempotent_answer" TEXT,
    "read_at" TIMESTAMPTZ(3),
    "edited_at" TIMESTAMPTZ(3),
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "support_users" (
    "user_id" TEXT NOT NULL,
    "banned_at" TIMESTAMPTZ(3),
    "ban_reason" TEXT,
    "closed_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "support_users_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "device_tokens" (
    "id" SERIAL NOT NULL,
    "user_id" TEXT NOT NULL,
    "fcm_token" TEXT NOT NULL,
    "platform" TEXT,
    "device_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "device_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "greetings_sent" (
    "user_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,

    CONSTRAINT "greetings_sent_pkey" PRIMARY KEY ("user_id","day")
);

-- CreateTable
CREATE TABLE "message_mapping" (
    "chat_id" BIGINT NOT NULL,
    "telegram_message_id" INTEGER NOT NULL,
    "user_id" TEXT NOT NULL,
    "message_id" INTEGER,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_mapping_pkey" PRIMARY KEY ("chat_id","telegram_message_id")
);

-- CreateTable
CREATE TABLE "processed_updates" (
    "update_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_updates_pkey" PRIMARY KEY ("update_id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" SERIAL NOT NULL,
    "lane" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "message_id" INTEGER,
    "payload" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "set_aside_at" TIMESTAMPTZ(3),
    "set_aside_reason" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "diary_users" (
    "id" BIGINT NOT NULL,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT,
    "username" TEXT,
    "language_code" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "diary_users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "diary_sessions" (
    "id" SERIAL NOT NULL,
    "token_hash" TEXT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "diary_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notes" (
    "id" SERIAL NOT NULL,
    "user_id" BIGINT NOT NULL,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "notes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "messages_user_id_id_idx" ON "messages"("user_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "messages_user_id_client_message_id_key" ON "messages"("user_id", "client_message_id");

-- CreateIndex
CREATE UNIQUE INDEX "messages_telegram_chat_id_telegram_message_id_key" ON "messages"("telegram_chat_id", "telegram_message_id");

-- CreateIndex
CREATE UNIQUE INDEX "device_tokens_fcm_token_key" ON "device_tokens"("fcm_token");

-- CreateIndex
CREATE INDEX "device_tokens_user_id_idx" ON "device_tokens"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "device_tokens_user_id_device_id_key" ON "device_tokens"("user_id", "device_id");

-- CreateIndex
CREATE INDEX "message_mapping_chat_id_sent_at_idx" ON "message_mapping"("chat_id", "sent_at");

-- CreateIndex
CREATE INDEX "outbox_lane_set_aside_at_id_idx" ON "outbox"("lane", "set_aside_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "diary_sessions_token_hash_key" ON "diary_sessions"("token_hash");

-- CreateIndex
CREATE INDEX "diary_sessions_user_id_idx" ON "diary_sessions"("user_id");

-- CreateIndex
CREATE INDEX "notes_user_id_created_at_idx" ON "notes"("user_id", "created_at");

-- AddForeignKey
ALTER TABLE "diary_sessions" ADD CONSTRAINT "diary_sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "diary_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notes" ADD CONSTRAINT "notes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "diary_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

