// The support desk on real parts: the service in-process with the Telegram
// stand-in behind grammY (updates posted to the real webhook) and the FCM
// stand-in behind firebase-admin. Sockets connect with socket.io-client's
// defaults (long-polling first, then the upgrade), as the mobile app does.
import { io, type Socket } from "socket.io-client";
import type { Logger } from "../../server/logger.js";
import { startFcmStandIn, writeFakeServiceAccount, type FakeServiceAccount, type FcmStandIn } from "../fixtures/fcm-stand-in.js";
import { postJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import type { ChatItem, SendAnswer } from "../fixtures/wire.js";

export const SECRET = "desk-secret_123";

export interface Desk {
  tg: TelegramStandIn;
  fcm: FcmStandIn;
  t: TestApp;
  group: number;
  /** posts a Telegram Update to the webhook as Telegram does; resolves once it was handled */
  webhook(update: unknown): Promise<Response>;
  /** a user's message through POST /send_message; returns the group post's Telegram id */
  userSays(userId: string, text: string, userName?: string): Promise<SendAnswer>;
  /** an agent's reply (a real Update) to a group post; resolves to the support message the app got */
  agentReplies(userId: string, replyTo: number, text: string): Promise<{ item: ChatItem; telegramMessageId: number }>;
  /** a socket (library defaults) that joined the user's chat */
  joinedSocket(userId: string): Promise<Socket>;
  close(): Promise<void>;
}

export interface DeskOptions {
  /** more environment (e.g. SUPPORT_TOPICS=on) */
  env?: Record<string, string>;
  /** shapes Telegram before the service starts (e.g. a forum group) */
  prepare?: (tg: TelegramStandIn) => void;
  /** reuse this stand-in (a restart) */
  tg?: TelegramStandIn;
  /** reuse this folder and its database (a restart) */
  dir?: string;
  logger?: Logger;
  /** how long /send_message waits for Telegram before answering "queued" (default here 10 s: see below) */
  sendWaitMs?: number;
}

export async function startDesk(group: number, options: DeskOptions = {}): Promise<Desk> {
  const tg = options.tg ?? (await startTelegramStandIn());
  options.prepare?.(tg);
  const account: FakeServiceAccount = writeFakeServiceAccount({ projectId: "desk-test" });
  const fcm = await startFcmStandIn({ projectId: "desk-test" });
  const t = await startTestApp({
    env: {
      ...tg.envFor(group),
      TELEGRAM_MODE: "webhook",
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      FCM_SERVICE_ACCOUNT_PATH: account.path,
      ...options.env,
    },
    dir: options.dir,
    ...(options.logger ? { logger: options.logger } : {}),
    botInfo: tg.botInfo,
    pushTransport: fcm.transport,
    // These tests post far more than Telegram's 20 a minute; pacing has its own tests.
    pacerLimits: { perGroup: 10_000, perGroupWindowMs: 60_000, overall: 10_000, overallWindowMs: 1000 },
    // userSays needs "sent": a busy CI machine (two instances and PostgreSQL
    // in TEST_ENGINE=cluster) must not turn a slow send into a failed test.
    // The tests about "queued" set their own.
    sendWaitMs: options.sendWaitMs ?? 10_000,
    // One user sends dozens of messages here; the inbound limits have their own tests.
    rateLimits: { perUser: { send: { points: 10_000, windowSeconds: 60 } }, perIp: { send: { points: 10_000, windowSeconds: 60 } } },
  });
  const sockets: Socket[] = [];
  const webhook = (update: unknown) =>
    fetch(`${t.url}/api/telegram/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET },
      body: JSON.stringify(update),
    });
  const desk: Desk = {
    tg,
    fcm,
    t,
    group,
    webhook,
    async userSays(userId, text, userName) {
      const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: userId, message: text, ...(userName ? { user_name: userName } : {}) });
      if (res.status !== 200 || res.body.delivery !== "sent") throw new Error(`send_message answered ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async agentReplies(userId, replyTo, text) {
      const update = tg.updates.groupText({ chatId: group, text, replyTo });
      const telegramMessageId = (update as { message: { message_id: number } }).message.message_id;
      const res = await webhook(update);
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      const history = (await (await fetch(`${t.url}/message_history/${userId}?limit=200`)).json()) as { messages: ChatItem[] };
      const item = history.messages.findLast((m) => m.message === text && m.direction === "support");
      if (!item) throw new Error(`the reply "${text}" was not stored for ${userId}`);
      return { item, telegramMessageId };
    },
    async joinedSocket(userId) {
      const socket = io(t.url);
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      const joined = new Promise((resolve) => socket.once("joined", resolve));
      socket.emit("join_chat", { user_id: userId });
      await joined;
      return socket;
    },
    async close() {
      for (const socket of sockets) socket.close();
      await t.close();
      await fcm.close();
      if (!options.tg) await tg.close();
      account.cleanup();
    },
  };
  return desk;
}

/** Collects a socket's events of one name from now on. */
export function record<T>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (payload: T) => void seen.push(payload));
  return seen;
}

/** Resolves with the next event of that name, or rejects after `ms`. */
export function nextEvent<T>(socket: Socket, event: string, ms = 3_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
