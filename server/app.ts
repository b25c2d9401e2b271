// The composition root: builds every part of the service for one process
// and wires them on one HTTP server. server/main.ts runs it for real; tests
// build it in-process with stand-ins for Telegram and FCM.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Bot } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { Config } from "./config/env.js";
import { openDatabase, type Db } from "./db/database.js";
import { AppError } from "./errors.js";
import { createKeyCheck, requestKey } from "./http/api-key.js";
import { answerClientError } from "./http/client-error.js";
import { registerMobileRoutes } from "./http/mobile-routes.js";
import { RequestLimiter, type RateLimitOverrides } from "./http/rate-limit.js";
import { sendError, sendFailure } from "./http/respond.js";
import { Router } from "./http/router.js";
import { createLogger, type Logger } from "./logger.js";
import { GroupDelivery } from "./outbox/group-delivery.js";
import { OutboxStore } from "./outbox/outbox-store.js";
import { GroupPacer, type PacerLimits } from "./outbox/pacer.js";
import { PushDelivery } from "./outbox/push-delivery.js";
import { createPush, type PushTransport } from "./push/fcm-push.js";
import { RealtimeHub } from "./realtime/hub.js";
import { UploadStore } from "./storage/uploads.js";
import { DeviceService } from "./support/device-service.js";
import { GreetingStore } from "./support/greeting-store.js";
import { MappingStore } from "./support/mapping-store.js";
import { MessageStore } from "./support/message-store.js";
import { SupportService } from "./support/support-service.js";
import { registerDiaryRestRoutes } from "./api/diary-rest.js";
import { registerTrpcRoutes } from "./api/http.js";
import { createBot } from "./telegram/bot.js";
import { configureBotMenu, createDiaryStartComposer } from "./telegram/diary-start.js";
import { startPolling, type Polling } from "./telegram/polling.js";
import { createSupportReplies } from "./telegram/support-replies.js";
import { createWebhookHandler, handleTelegramHealth } from "./telegram/webhook.js";
import { createGroupSender } from "./telegram/group-sender.js";

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface AppOptions {
  config: Config;
  logger?: Logger;
  /** the project folder (prisma/migrations lives there) */
  projectRoot?: string;
  /** Next.js's handler for everything the service does not answer itself */
  pages?: RequestHandler;
  /** the bot's identity when known (tests): no getMe at start */
  botInfo?: UserFromGetMe;
  /** where firebase-admin's FCM requests go (tests: a local stand-in) */
  pushTransport?: PushTransport;
  /** how long /send_message waits for Telegram (default 3 s) */
  sendWaitMs?: number;
  pacerLimits?: PacerLimits;
  /** inbound REST rate limits; defaults in server/http/rate-limit.ts */
  rateLimits?: RateLimitOverrides;
}

export interface App {
  config: Config;
  logger: Logger;
  db: Db;
  server: Server;
  hub: RealtimeHub;
  bot: Bot | null;
  support: SupportService;
  devices: DeviceService;
  uploads: UploadStore;
  groupDelivery: GroupDelivery;
  pushDelivery: PushDelivery;
  outbox: OutboxStore;
  router: Router;
  /** starts listening and the background workers; resolves to the bound address */
  listen(): Promise<AddressInfo>;
  /** graceful stop: no new requests, in-flight ones and sends finish, then sockets and the database close */
  close(timeoutMs?: number): Promise<void>;
}

export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const projectRoot = options.projectRoot ?? process.cwd();
  const secrets = [config.botToken, config.apiKey, config.webhookSecret, config.fcmServiceAccount?.privateKey].filter((s): s is string => Boolean(s));
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets });

  const db = await openDatabase({ file: config.databasePath, migrationsDir: path.join(projectRoot, "prisma", "migrations") });
  const uploads = new UploadStore(config.uploadDir);
  const messages = new MessageStore(db.sqlite);
  const outbox = new OutboxStore(db.sqlite);
  const mappings = new MappingStore(db.sqlite);
  const greetings = new GreetingStore(db.sqlite, messages);
  const devices = new DeviceService(db.prisma);

  const push = createPush({ config, logger, transport: options.pushTransport });

  const bot = config.botToken
    ? createBot({
        token: config.botToken,
        apiRoot: config.telegramApiRoot,
        botInfo: options.botInfo,
        features: [createDiaryStartComposer({ db, config, logger })],
      })
    : null;
  if (!bot) logger.warn(`the Telegram bot is off: ${config.botTokenVariable} is not set; messages are stored and queued until it is`);
  else if (!config.groupChatId) logger.warn("GROUP_CHAT_ID is not set: support messages are stored and queued, and delivered once it is set");
  const sender = bot && config.groupChatId ? createGroupSender(bot.api, config.groupChatId) : null;

  const server = createServer();
  server.on("clientError", answerClientError);
  const hub = new RealtimeHub({ httpServer: server, logger, authorize: config.apiKey ? createKeyCheck(config.apiKey) : undefined });

  const groupDelivery = new GroupDelivery({
    db: db.sqlite,
    outbox,
    messages,
    mappings,
    sender,
    pacer: new GroupPacer(options.pacerLimits),
    logger,
    publicOrigin: new URL(config.publicWebappUrl).origin,
  });
  const pushDelivery = new PushDelivery({ outbox, messages, devices, push, logger });
  const support = new SupportService({
    db: db.sqlite,
    messages,
    greetings,
    outbox,
    groupDelivery,
    pushDelivery,
    pushEnabled: push.enabled,
    realtime: hub,
    logger,
    sendWaitMs: options.sendWaitMs,
  });

  const keyCheck = config.apiKey ? createKeyCheck(config.apiKey) : null;
  const router = new Router();
  registerMobileRoutes(router, {
    limiter: new RequestLimiter(options.rateLimits),
    support,
    devices,
    uploads,
    requireApiKey: (req) => {
      if (keyCheck && !keyCheck(requestKey(req))) throw new AppError("UNAUTHORIZED", "API key required: send X-API-Key: <key> or Authorization: Bearer <key>");
    },
    health: () => {
      const queue = outbox.stats("telegram");
      return {
        telegram: sender ? "on" : "off",
        push: push.enabled ? "on" : "off",
        queue: {
          depth: queue.depth,
          oldest_age_seconds: queue.oldestCreatedAt ? Math.max(0, Math.round((Date.now() - queue.oldestCreatedAt.getTime()) / 1000)) : 0,
        },
        push_queue: { depth: outbox.stats("push").depth },
      };
    },
  });

  if (bot && config.groupChatId) {
    bot.use(
      createSupportReplies({
        groupChatId: config.groupChatId,
        userForPost: (chatId, telegramMessageId) => mappings.userFor(chatId, telegramMessageId),
        addSupportReply: (input) => support.addSupportReply(input),
        savePhoto: (bytes, name) => uploads.saveBuffer(bytes, name),
        logger,
      }),
    );
  }
  router.on("GET", "/api/telegram/health", ({ req, res }) => handleTelegramHealth(req, res));
  if (bot && config.telegramMode === "webhook") {
    const webhook = createWebhookHandler({ bot, secret: config.webhookSecret, prisma: db.prisma, logger });
    router.on("POST", "/api/telegram/webhook", ({ req, res }) => webhook(req, res));
  }
  registerTrpcRoutes(router, { db, config, logger });
  registerDiaryRestRoutes(router, { db, logger, health: false });
  let polling: Polling | null = null;

  let inFlight = 0;
  let drained: (() => void) | null = null;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    void dispatch(req, res);
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const pathname = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const match = router.match(req.method ?? "GET", pathname);
    if (match === "method") {
      req.resume();
      sendError(res, 405, `method ${req.method} is not allowed here`);
      return;
    }
    if (match) {
      try {
        await match.handler({ req, res, url: new URL(rawUrl, "http://localhost"), params: match.params });
      } catch (error) {
        sendFailure(res, req, error, logger);
      }
      return;
    }
    if (options.pages) {
      try {
        await options.pages(req, res);
      } catch (error) {
        sendFailure(res, req, error, logger);
      }
      return;
    }
    req.resume();
    sendError(res, 404, `nothing at ${pathname}`);
  }

  let closing: Promise<void> | null = null;
  return {
    config,
    logger,
    db,
    server,
    hub,
    bot,
    support,
    devices,
    uploads,
    groupDelivery,
    pushDelivery,
    outbox,
    router,
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          server.off("error", reject);
          groupDelivery.start();
          pushDelivery.start();
          if (bot && config.telegramMode === "polling") polling = startPolling({ bot, logger });
          if (bot && config.telegramMode !== "off") {
            // Menu button and command list: nice to have, never a reason not to start.
            void configureBotMenu(bot.api, config, logger).catch((error: unknown) => logger.warn({ err: error }, "could not set the bot's commands and menu button"));
          }
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(timeoutMs = 10_000) {
      closing ??= (async () => {
        const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
        const stopAccepting = new Promise<void>((resolve) => server.close(() => resolve()));
        const requestsDone = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
        await Promise.race([Promise.all([requestsDone, groupDelivery.stop(), pushDelivery.stop(), polling?.stop()]), deadline]);
        await hub.close();
        server.closeAllConnections();
        await Promise.race([stopAccepting, deadline]);
        await push.close();
        await db.close();
      })();
      return closing;
    },
  };
}
