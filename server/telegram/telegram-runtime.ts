// Everything Telegram for one process: the bot and its features, the sender
// that posts into the support group, the webhook route or long polling, and
// the bot's menu. The bot is off without a token; the sender is off without
// GROUP_CHAT_ID (messages then wait in the outbox).
import type { Bot } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { Config } from "../config/env.js";
import type { Db } from "../db/database.js";
import { sendJson } from "../http/respond.js";
import type { Router } from "../http/router.js";
import type { Logger } from "../logger.js";
import { createAgentCommands, type AgentCommandsDeps } from "./agent-commands.js";
import { supportGroupTest } from "./group-messages.js";
import { createBot } from "./bot.js";
import type { TelegramCallObserver } from "./call-counter.js";
import { configureBotMenu, createDiaryStartComposer } from "./diary-start.js";
import { createGroupSender, type GroupSender } from "./group-sender.js";
import { startPolling, type Polling } from "./polling.js";
import { createSupportReplies, type SupportRepliesDeps } from "./support-replies.js";
import { classifySendError } from "./send-errors.js";
import { TOPIC_MODE_CHANNEL, TopicMode } from "./topics.js";
import { TopicStore } from "./topics-store.js";
import { createWebhookHandler, handleTelegramHealth } from "./webhook.js";

export interface TelegramRuntime {
  bot: Bot | null;
  sender: GroupSender | null;
  /** topic mode (SPEC §7): whether it is in use, and each user's topic */
  topics: { mode: TopicMode; store: TopicStore };
  /** agents' replies in the group become support messages */
  useSupportReplies(deps: Omit<SupportRepliesDeps, "isSupportGroup" | "logger" | "userForTopic">): void;
  /**
   * agents' commands in the group; install before the replies, so a command
   * is never delivered. `closeTopic` replaces closing the topic here (the
   * app routes it to the one instance that sends into the group).
   */
  useAgentCommands(deps: Omit<AgentCommandsDeps, "isSupportGroup" | "logger" | "closeTopic"> & Partial<Pick<AgentCommandsDeps, "closeTopic">>): void;
  /** /close in topic mode: closes the user's topic in the group (a call into the group: the sender makes it) */
  closeTopic(userId: string): Promise<void>;
  /** the user a forum topic of the support group belongs to */
  userForTopic(chatId: number, threadId: number): Promise<string | null>;
  registerRoutes(router: Router): void;
  /**
   * Polling (TELEGRAM_MODE=polling) and the bot's menu: the work only one
   * process does, so it is started when this one takes the sender lease
   * and stopped when it loses it. Never blocks start-up.
   */
  start(): void;
  stop(): Promise<void>;
}

export interface TelegramRuntimeOptions {
  config: Config;
  logger: Logger;
  db: Db;
  botInfo?: UserFromGetMe;
  observeCall?: TelegramCallObserver;
}

export function createTelegramRuntime({ config, logger, db, botInfo, observeCall }: TelegramRuntimeOptions): TelegramRuntime {
  const bot = config.botToken
    ? createBot({ token: config.botToken, apiRoot: config.telegramApiRoot, botInfo, observeCall, features: [createDiaryStartComposer({ db, config, logger })] })
    : null;
  if (!bot) logger.warn(`the Telegram bot is off: ${config.botTokenVariable} is not set; messages are stored and queued until it is`);
  else if (!config.groupChatId) logger.warn("GROUP_CHAT_ID is not set: support messages are stored and queued, and delivered once it is set");
  const sender = bot && config.groupChatId ? createGroupSender(bot.api, config.groupChatId) : null;
  const isSupportGroup = config.groupChatId ? supportGroupTest(config.groupChatId, () => sender?.chatId ?? null) : () => false;
  let polling: Polling | null = null;
  const topicStore = new TopicStore(db.sql);
  const topicMode = new TopicMode({
    wanted: config.supportTopics,
    api: bot?.api ?? null,
    chatId: sender ? () => sender.resolveChat() : null,
    botId: async () => {
      if (!bot) throw new Error("the bot is off");
      await bot.init();
      return bot.botInfo.id;
    },
    logger,
    announce: (reason) => db.sql.notify(TOPIC_MODE_CHANNEL, reason),
  });
  const userForTopic = async (chatId: number, threadId: number) => (await topicStore.byThread(chatId, threadId))?.userId ?? null;
  /** /close in topic mode: the topic is closed; the user's next message reopens it (GroupDelivery). */
  const closeTopic = async (userId: string): Promise<void> => {
    const chatId = sender?.chatId;
    const topic = chatId == null ? null : await topicStore.forUser(chatId, userId);
    if (!sender || chatId == null || !topic || topic.state !== "open") return;
    try {
      await sender.closeTopic(topic.threadId);
      await topicStore.setState(chatId, topic.threadId, "closed");
    } catch (error) {
      const failure = classifySendError(error);
      if (/topic_not_modified/i.test(failure.description)) await topicStore.setState(chatId, topic.threadId, "closed");
      else if (failure.kind === "topic_gone") await topicStore.setState(chatId, topic.threadId, "gone");
      else logger.warn({ userId, threadId: topic.threadId, reason: failure.description }, "could not close the user's topic; the conversation is closed all the same");
    }
  };

  return {
    bot,
    sender,
    topics: { mode: topicMode, store: topicStore },
    userForTopic,
    useSupportReplies(deps) {
      if (bot && config.groupChatId) {
        bot.use(createSupportReplies({ ...deps, userForTopic, isSupportGroup, logger }));
      }
    },
    useAgentCommands(deps) {
      if (bot && config.groupChatId) bot.use(createAgentCommands({ ...deps, closeTopic: deps.closeTopic ?? closeTopic, isSupportGroup, logger }));
    },
    closeTopic,
    registerRoutes(router) {
      router.on("GET", "/api/telegram/health", ({ req, res }) => handleTelegramHealth(req, res));
      if (bot && config.telegramMode === "webhook") {
        const webhook = createWebhookHandler({ bot, secret: config.webhookSecret, sql: db.sql, logger, instanceId: config.instanceId });
        router.on("POST", "/api/telegram/webhook", ({ req, res }) => webhook(req, res));
        return;
      }
      // Say why nothing is processed rather than a bare 404.
      const reason = bot ? `the webhook is off: TELEGRAM_MODE is ${config.telegramMode}` : `the Telegram bot is off: ${config.botTokenVariable} is not set`;
      router.on("POST", "/api/telegram/webhook", ({ req, res }) => {
        req.resume();
        sendJson(res, 503, { ok: false, error: reason });
      });
    },
    start() {
      // Sending works in every TELEGRAM_MODE, so topic mode is checked in every one.
      topicMode.start();
      if (!bot || config.telegramMode === "off" || polling) return;
      if (config.telegramMode === "polling") polling = startPolling({ bot, logger });
      // Menu button and command list: nice to have, never a reason not to start.
      void configureBotMenu(bot.api, config, logger).catch((error: unknown) => logger.warn({ err: error }, "could not set the bot's commands and menu button"));
    },
    async stop() {
      topicMode.stop();
      const current = polling;
      polling = null;
      await current?.stop();
    },
  };
}
