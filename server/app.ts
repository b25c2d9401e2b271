// The composition root: builds every part of the service for one process
// and wires them on one HTTP server. server/main.ts runs it for real; tests
// build it in-process with stand-ins for Telegram and FCM.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import type { Bot } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import { registerDiaryRestRoutes } from "./api/diary-rest.js";
import { registerTrpcRoutes } from "./api/http.js";
import { Lease } from "./cluster/lease.js";
import { SqlLeaseStore } from "./cluster/lease-store.js";
import { openRedis, redisCheck, type ServiceRedis } from "./cluster/redis.js";
import { RedisSharedPause } from "./cluster/shared-pause.js";
import type { Config } from "./config/env.js";
import { exposureWarnings } from "./config/exposure-warnings.js";
import { migrationsDirFor, openDatabase, type Db } from "./db/database.js";
import { postgresPlace } from "./db/sql.js";
import { AppError } from "./errors.js";
import { createKeyCheck, requestKey } from "./http/api-key.js";
import { answerClientError } from "./http/client-error.js";
import { createDispatcher, type RequestHandler } from "./http/dispatch.js";
import { registerMobileRoutes } from "./http/mobile-routes.js";
import { RequestLimiter, withOverrides, type RateLimitOverrides } from "./http/rate-limit.js";
import { Router } from "./http/router.js";
import { mobileApiDoc } from "./http/mobile-api-doc.js";
import { createUserIdentity } from "./http/user-identity.js";
import { createLogger, type Logger } from "./logger.js";
import { ServiceMetrics } from "./ops/metrics.js";
import { buildOpenApiDocument } from "./ops/openapi.js";
import { opsApiDoc, registerOpsRoutes } from "./ops/ops-routes.js";
import { databaseCheck, type ReadinessCheck } from "./ops/readiness.js";
import { GroupDelivery, type DeliveryObserver } from "./telegram/group-lane.js";
import { OUTBOX_CHANNEL, OutboxStore } from "./outbox/outbox-store.js";
import { GroupBudget } from "./outbox/group-budget.js";
import { GroupPacer, TELEGRAM_LIMITS, type PacerLimits } from "./outbox/pacer.js";
import { PushDelivery } from "./outbox/push-delivery.js";
import { queueHealth } from "./outbox/queue-health.js";
import { createPush, type PushTransport } from "./push/fcm-push.js";
import { RealtimeHub } from "./realtime/hub.js";
import { UploadStore } from "./storage/uploads.js";
import { DeviceService } from "./support/device-service.js";
import { GreetingStore } from "./support/greeting-store.js";
import { MappingStore } from "./support/mapping-store.js";
import { MessageStore } from "./support/message-store.js";
import { ConversationService } from "./support/conversation-service.js";
import { SupportService } from "./support/support-service.js";
import { UserStateStore } from "./support/user-state-store.js";
import { AgentAlbums } from "./telegram/agent-albums.js";
import { DeliveryFeedback } from "./telegram/reactions.js";
import { createUserResolver } from "./telegram/group-messages.js";
import { Reminders } from "./support/reminders.js";
import { targetOptions, waitingUserTarget, type GroupTarget } from "./telegram/group-target.js";
import { NOT_SHOWN_TEXT } from "./telegram/support-replies.js";
import { createTelegramRuntime } from "./telegram/telegram-runtime.js";
import { DeskCalls, type DeskCall } from "./telegram/desk-calls.js";
import { TOPIC_MODE_CHANNEL } from "./telegram/topics.js";

export type { RequestHandler } from "./http/dispatch.js";

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
  /** told when each group post is durably recorded */
  deliveryObserver?: DeliveryObserver;
  /** replaces some of the configured inbound limits (config.rateLimits) */
  rateLimits?: RateLimitOverrides;
  /** how long the sender lease outlives its holder's last renewal (default SENDER_LEASE_TTL_MS) */
  leaseTtlMs?: number;
  /** the reminders' clock and check interval (tests) */
  reminders?: { now?: () => Date; checkEveryMs?: number };
}

/** The group sender's lease: a process that dies holding it is replaced after this long (SPEC §8: within 15 s). */
export const SENDER_LEASE_TTL_MS = 10_000;
const SENDER_LEASE = "group-sender";

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
  /** the delivery reactions on agents' messages */
  feedback: DeliveryFeedback;
  outbox: OutboxStore;
  /** whether this process is the one that sends into the group (and polls) */
  senderLease: Lease;
  router: Router;
  metrics: ServiceMetrics;
  /** starts listening and the background workers; resolves to the bound address */
  listen(): Promise<AddressInfo>;
  /** graceful stop: no new requests, in-flight ones and sends finish, then sockets and the database close */
  close(timeoutMs?: number): Promise<void>;
}

/** How long a webhook request waits for its answer's turn in the group's budget. */
const ANSWER_HOLD_MS = 3_000;

export function secretsOf(config: Config): string[] {
  return [config.botToken, config.apiKey, config.webhookSecret, config.userHashSecret, config.fcmServiceAccount?.privateKey, passwordIn(config.databaseUrl), passwordIn(config.redisUrl)].filter(
    (s): s is string => Boolean(s),
  );
}

/** The password of a postgres:// or redis:// URL, to be scrubbed from logs. */
function passwordIn(url: string | null): string | undefined {
  if (!url || url.startsWith("file:")) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Where the database is, for log lines: never the URL itself (it may hold a password). */
function databaseLabel(config: Config): string {
  return config.databasePath ?? postgresPlace(config.databaseUrl);
}

export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const projectRoot = options.projectRoot ?? process.cwd();
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets: secretsOf(config) });
  for (const warning of exposureWarnings(config)) logger.warn(warning);

  const db = await openDatabase({
    url: config.databaseUrl,
    migrationsDir: migrationsDirFor(config.databaseUrl, projectRoot),
    onListenerProblem: (error) =>
      error
        ? logger.warn({ reason: error.message }, "lost PostgreSQL's notification connection; reconnecting (meanwhile queued work is found by the periodic checks, within seconds)")
        : logger.info("PostgreSQL's notification connection is back"),
  });
  if (db.appliedMigrations.length > 0) logger.info({ database: databaseLabel(config), migrations: db.appliedMigrations }, `database migrated: ${db.appliedMigrations.length} migration(s) applied`);
  const uploads = new UploadStore(config.uploadDir);
  const messages = new MessageStore(db.sql);
  const outbox = new OutboxStore(db.sql);
  const mappings = new MappingStore(db.sql);
  const userStates = new UserStateStore(db.sql);
  const devices = new DeviceService(db.prisma);
  const push = createPush({ config, logger, transport: options.pushTransport });
  const metrics = new ServiceMetrics({
    outboxStats: (lane) => outbox.stats(lane),
    setAsideJobs: async (lane) => (await outbox.setAsideStats(lane)).count,
    connectedSockets: () => hub.io.of("/").sockets.size,
  });
  const telegram = createTelegramRuntime({ config, logger, db, botInfo: options.botInfo, observeCall: (method, outcome) => metrics.countTelegramCall(method, outcome) });

  // The dispatcher must be the server's request listener before the hub
  // attaches: engine.io takes over the listeners present at that moment and
  // passes them only what is not under /socket.io/. A listener added later
  // would answer engine.io's polling requests too, and the two answers
  // collide (the client sees "xhr post error"). Routes are registered below.
  const router = new Router();
  const dispatcher = createDispatcher(router, options.pages, logger, {
    observe: (method, route, status, seconds) => metrics.observeRequest(method, route, status, seconds),
    quietRoutes: ["/health", "/ready", "/metrics"],
  });
  const server = createServer(dispatcher.handle);
  server.on("clientError", answerClientError);
  // A cluster (SPEC §8): Socket.IO rooms, rate limits and Telegram's
  // retry_after are shared through Redis; one connection serves all three.
  const redis: ServiceRedis | null = config.redisUrl ? openRedis({ url: config.redisUrl, logger, connectionName: config.instanceId }) : null;
  const limiter = new RequestLimiter({
    limits: withOverrides(config.rateLimits, options.rateLimits),
    trustProxy: config.trustProxy,
    ...(redis ? { shared: { redis: redis.client, instances: config.clusterSize, keyPrefix: `${config.redisKeyPrefix}rl` } } : {}),
  });
  const identity = createUserIdentity(config.userHashSecret);
  const hub = new RealtimeHub({
    httpServer: server,
    logger,
    authorize: config.apiKey ? createKeyCheck(config.apiKey) : undefined,
    identity,
    limiter,
    // REDIS_KEY_PREFIX keeps two deployments on one Redis apart: without it
    // they would share rooms (a reply reaching the other's sockets), counts
    // and Telegram pauses. Empty, these are the libraries' own defaults.
    ...(redis
      ? {
          adapter: createAdapter(redis.client, {
            streamName: `${config.redisKeyPrefix}socket.io`,
            channelPrefix: `${config.redisKeyPrefix}socket.io`,
            sessionKeyPrefix: `${config.redisKeyPrefix}sio:session:`,
          }),
        }
      : {}),
  });

  // One sender per database: a second process on the same file (a rolling
  // restart), or any other instance on PostgreSQL, waits until this one has
  // stopped or died.
  const leaseStore = new SqlLeaseStore(db.sql);
  const senderLease = new Lease({
    store: leaseStore,
    name: SENDER_LEASE,
    instanceId: config.instanceId,
    ttlMs: options.leaseTtlMs ?? SENDER_LEASE_TTL_MS,
    logger,
    onAcquired: () => {
      metrics.setLeader(true);
      groupDelivery.leadershipGained().catch((error: unknown) => logger.error({ err: error }, "could not rebuild the group's pacing window after taking the sender lease"));
      leaderWork(() => {
        pushDelivery.start();
        desk.start();
        telegram.start();
        // Reminders post into the group: one process sends them, as it sends users' posts.
        reminders?.start();
      });
    },
    onLost: () => {
      metrics.setLeader(false);
      leaderWork(() => Promise.all([pushDelivery.stop(), desk.stop(), telegram.stop(), reminders?.stop()]));
    },
  });
  // The push lane, reminders, polling and the bot menu run on the lease holder only;
  // starts and stops run one after another, so a quick lose-and-retake
  // never finds a loop still stopping.
  let leaderChanges: Promise<unknown> = Promise.resolve();
  const leaderWork = (change: () => unknown) => {
    leaderChanges = leaderChanges.then(change).catch((error: unknown) => logger.error({ err: error }, "could not start or stop the sender's work"));
  };

  const pacerLimits = options.pacerLimits ?? TELEGRAM_LIMITS;
  const budget = new GroupBudget({
    pacer: new GroupPacer(pacerLimits),
    userPostWaiting: async () => (await outbox.head("telegram")) !== null,
    headroom: Math.max(1, Math.ceil(pacerLimits.perGroup / 4)),
    ...(redis ? { sharedPause: new RedisSharedPause({ redis: redis.client, logger, keyPrefix: `${config.redisKeyPrefix}pause` }) } : {}),
  });
  const groupDelivery = new GroupDelivery({
    sql: db.sql,
    outbox,
    messages,
    mappings,
    sender: telegram.sender,
    pacer: budget,
    logger,
    publicOrigin: new URL(config.publicWebappUrl).origin,
    observer: options.deliveryObserver,
    topics: telegram.topics,
    mayLead: () => senderLease.held,
    stillLeading: async (tx) => {
      const epoch = senderLease.epoch;
      return epoch !== null && (await leaseStore.holds(SENDER_LEASE, epoch, tx));
    },
    sharedOutcomes: db.engine === "postgres",
  });
  const bot = telegram.bot;
  // Answers, notices and reactions go into the group from the sender only (server/telegram/desk-calls.ts).
  const runDeskCall = async (call: DeskCall): Promise<boolean> => {
    if (!bot) throw new Error("the Telegram bot is off");
    if (call.kind === "answer") {
      await budget.send("answer", () => bot.api.sendMessage(call.chatId, call.text, targetOptions(call.target)));
      return true;
    }
    if (call.kind === "close_topic") {
      await telegram.closeTopic(call.userId);
      return true;
    }
    return (await budget.send("reaction", () => bot.api.setMessageReaction(call.chatId, call.messageId, [{ type: "emoji", emoji: call.emoji }]))) !== null;
  };
  const desk = new DeskCalls({ sql: db.sql, outbox, leading: () => senderLease.held, run: runDeskCall, logger });
  const feedback = new DeliveryFeedback({
    sql: db.sql,
    logger,
    pushEnabled: push.enabled,
    socketsOf: (userId) => hub.socketsOf(userId),
    async setReaction(chatId, telegramMessageId, emoji) {
      if (!bot) return false;
      return desk.submit({ kind: "reaction", chatId, messageId: telegramMessageId, emoji });
    },
  });
  const pushDelivery = new PushDelivery({
    outbox,
    messages,
    devices,
    push,
    logger,
    observe: (outcome, tokens) => metrics.countPushes(outcome, tokens),
    onOutcome: (messageId, outcome) => feedback.pushOutcome(messageId, outcome),
  });
  const support = new SupportService({
    sql: db.sql,
    messages,
    greetings: new GreetingStore(db.sql, messages),
    userStates,
    groupDelivery,
    pushDelivery,
    pushEnabled: push.enabled,
    realtime: hub,
    logger,
    sendWaitMs: options.sendWaitMs,
    onSupportReply: (message) => feedback.replied(message),
    onRead: (messageIds) => feedback.read(messageIds),
  });
  hub.useReadMarker(support);
  const conversations = new ConversationService({ sql: db.sql, messages, userStates, devices, pushEnabled: push.enabled, realtime: hub });
  const userForPost = (chatId: number, telegramMessageId: number) => mappings.userFor(chatId, telegramMessageId);
  // Answers, reminders and notices to agents: after users' posts in the
  // group's budget. Behind a backlog of users' posts one may wait long; the
  // webhook request waits ANSWER_HOLD_MS at most (Telegram redelivers slow
  // updates), then the answer goes on in the background.
  const tellAgent = async (chatId: number, target: GroupTarget, text: string) => {
    if (!bot) throw new Error("the Telegram bot is off");
    const sending = desk.submit({ kind: "answer", chatId, target, text });
    let timer: NodeJS.Timeout | undefined;
    const held = new Promise<"later">((resolve) => (timer = setTimeout(resolve, ANSWER_HOLD_MS, "later")));
    try {
      if ((await Promise.race([sending, held])) === "later") {
        sending.catch((error: unknown) => logger.warn({ err: error, chatId }, "could not post an answer into the group after waiting for users' posts; dropped"));
      }
    } finally {
      clearTimeout(timer);
    }
  };
  telegram.useAgentCommands({
    conversations,
    answer: tellAgent,
    closeTopic: async (userId) => void (await desk.submit({ kind: "close_topic", userId })),
    resolveUser: createUserResolver({
      userForPost,
      userForReply: async (chatId, telegramMessageId) => (await conversations.supportMessageFor({ chatId, telegramMessageId }))?.userId ?? null,
      userForTopic: telegram.userForTopic,
    }),
  });
  const albums = new AgentAlbums({
    sql: db.sql,
    logger,
    async deliver(album) {
      if (album.photoUrls.length > 0) {
        await support.addSupportReply({ userId: album.userId, text: album.text, photoUrls: album.photoUrls, chatId: album.chatId, telegramMessageId: album.firstMessageId });
        logger.info({ chatId: album.chatId, telegramMessageId: album.firstMessageId, userId: album.userId, photos: album.photoUrls.length }, "agent album delivered to user");
      } else {
        logger.info({ chatId: album.chatId, telegramMessageId: album.firstMessageId, userId: album.userId }, "agent album has no photo the app can show; not delivered");
      }
      if (album.firstOtherMessageId !== null) {
        await tellAgent(album.chatId, { replyTo: album.firstOtherMessageId, ...(album.threadId !== null ? { threadId: album.threadId } : {}) }, NOT_SHOWN_TEXT).catch((error: unknown) =>
          logger.warn({ err: error, chatId: album.chatId }, "could not tell the agent part of their album was not delivered"),
        );
      }
    },
  });
  const reminders =
    bot && config.groupChatId && config.supportReminderMinutes > 0
      ? new Reminders({
          sql: db.sql,
          logger,
          minutes: config.supportReminderMinutes,
          ...options.reminders,
          async post(waiting, text) {
            // awaited to the end: the reminder is recorded as sent only once Telegram took it
            const topic = telegram.topics.mode.enabled ? await telegram.topics.store.forUser(waiting.chatId, waiting.userId) : null;
            await budget.send("answer", () => bot.api.sendMessage(waiting.chatId, text, targetOptions(waitingUserTarget(waiting, () => topic?.threadId ?? null))));
            return true;
          },
        })
      : null;
  telegram.useSupportReplies({
    userForPost,
    collectAlbumItem: (item) => albums.add(item),
    albumItemArriving: (chatId, mediaGroupId) => albums.arrive(chatId, mediaGroupId),
    tellAgent,
    addSupportReply: (input) => support.addSupportReply(input),
    editSupportReply: (edit) => conversations.editReply({ chatId: edit.chatId, telegramMessageId: edit.telegramMessageId }, edit.text),
    savePhoto: (bytes, name) => uploads.saveBuffer(bytes, name),
  });

  const keyCheck = config.apiKey ? createKeyCheck(config.apiKey) : null;
  const requireApiKey = (req: IncomingMessage) => {
    if (keyCheck && !keyCheck(requestKey(req))) throw new AppError("UNAUTHORIZED", "API key required: send X-API-Key: <key> or Authorization: Bearer <key>");
  };
  registerMobileRoutes(router, {
    limiter,
    identity,
    support,
    devices,
    uploads,
    requireApiKey,
    health: async () => ({
      telegram: telegram.sender ? "on" : "off",
      push: push.enabled ? "on" : "off",
      instance: config.instanceId,
      leader: senderLease.held,
      topics: telegram.topics.mode.status(),
      ...(await queueHealth(outbox)),
    }),
  });
  telegram.registerRoutes(router);
  registerTrpcRoutes(router, { db, config, logger }, limiter);
  registerDiaryRestRoutes(router, { db, logger, health: false, limiter });
  const readinessChecks: ReadinessCheck[] = [databaseCheck(db.sql), ...(redis ? [redisCheck(redis)] : [])];
  registerOpsRoutes(router, {
    metrics,
    readinessChecks,
    requireApiKey,
    openApiDocument: () => buildOpenApiDocument([...mobileApiDoc, ...opsApiDoc], { version: packageVersion(projectRoot) }),
  });

  let closing: Promise<void> | null = null;
  return {
    config,
    logger,
    db,
    server,
    hub,
    bot: telegram.bot,
    support,
    devices,
    uploads,
    groupDelivery,
    pushDelivery,
    feedback,
    outbox,
    senderLease,
    router,
    metrics,
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          server.off("error", reject);
          // The lease's first answer comes before the loops start, so a
          // process that holds it sends from its first request on.
          // Work enqueued by any instance (or an operator's retry) wakes its lane here at once.
          void db.sql
            .listen(OUTBOX_CHANNEL, (lane) => (lane === "push" ? pushDelivery.kick() : lane === "desk" ? desk.kick() : groupDelivery.kick()))
            .then(() => db.sql.listen(TOPIC_MODE_CHANNEL, (reason) => telegram.topics.mode.disabledElsewhere(reason)))
            .then(() => desk.attach())
            .then(() => senderLease.start())
            // The sender checks topic mode when it takes the lease; the
            // others check too (two read-only calls, without log lines), so
            // that /health on any instance says what one would (SPEC §8).
            .then(() => (senderLease.held ? undefined : telegram.topics.mode.start({ quiet: true })))
            .then(() => Promise.all([groupDelivery.start(), albums.start()]))
            .then(() => resolve(server.address() as AddressInfo), reject);
        });
      });
    },
    close(timeoutMs = 10_000) {
      closing ??= (async () => {
        const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
        const stopAccepting = new Promise<void>((resolve) => server.close(() => resolve()));
        let workersDone = false;
        // Shutting down: no waiting for the sender's word on queued answers and reactions.
        desk.detach();
        const workersStopped = Promise.all([groupDelivery.stop(), pushDelivery.stop(), desk.stop(), albums.stop(), reminders?.stop(), feedback.idle(), telegram.stop()]).then(() => {
          workersDone = true;
        });
        await Promise.race([Promise.all([dispatcher.idle(), workersStopped]), deadline]);
        await hub.close();
        await redis?.close();
        server.closeAllConnections();
        await Promise.race([stopAccepting, deadline]);
        await push.close();
        // The deadline never closes the database under a send in flight: the
        // send's outcome must be recorded, or a post Telegram already took
        // would go out a second time after the restart. The process's own
        // bound (server/main.ts) still ends a send that never returns.
        if (!workersDone) logger.warn({ timeoutMs }, "shutdown: a send to Telegram or FCM is still in flight after the deadline; waiting for it before closing the database");
        await workersStopped;
        // After the sends stopped: the next process starts where this one ended.
        await senderLease.stop();
        await db.close();
      })();
      return closing;
    },
  };
}

function packageVersion(projectRoot: string): string {
  try {
    const { version } = JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { version?: unknown };
    return typeof version === "string" ? version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}
