// Socket.IO as the apps' clients really connect (SPEC §3): socket.io-client
// with its defaults (long-polling, then the upgrade to WebSocket), with
// WebSocket only, and the raw Engine.IO 4 protocol over a plain WebSocket
// as the native mobile clients speak it. Each carries a full round trip:
// join_chat → joined → the user's message and an agent's reply from the
// Telegram group arrive as new_message.
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Socket } from "socket.io-client";
import WebSocket from "ws";
import { postJson } from "../fixtures/http.js";
import { connectSocket, joinChat, nextMatching, type SocketClientOptions } from "../fixtures/socket.js";
import { startUpgradeGate } from "../fixtures/upgrade-gate.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import type { ChatItem as Wire, SendAnswer } from "../fixtures/wire.js";

const GROUP = -1005550002222;
const SECRET = "socket-clients-secret_1";

let tg: TelegramStandIn;
let t: TestApp;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: {
      ...tg.envFor(GROUP),
      TELEGRAM_MODE: "webhook",
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    },
    botInfo: tg.botInfo,
  });
});
afterAll(async () => {
  await t.close();
  await tg.close();
});

/** The user writes over REST; the message is posted to the group. */
async function userWrites(userId: string, message: string): Promise<SendAnswer> {
  const sent = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: userId, message });
  expect(sent.status).toBe(200);
  expect(sent.body.delivery).toBe("sent");
  return sent.body;
}

/** An agent answers the group post; Telegram delivers the reply to the webhook. */
async function agentReplies(toTelegramMessage: number, text: string): Promise<void> {
  const update = tg.updates.groupText({ chatId: GROUP, text, replyTo: toTelegramMessage });
  const answer = await fetch(`${t.url}/api/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET },
    body: JSON.stringify(update),
  });
  expect(answer.status).toBe(200);
}

async function roundTrip(socket: Socket, userId: string): Promise<void> {
  await joinChat(socket, userId);
  const own = nextMatching<Wire>(socket, "new_message", (m) => m.direction === "user");
  const sent = await userWrites(userId, `вопрос от ${userId}`);
  expect(await own).toMatchObject({ id: sent.id, user_id: userId, message: `вопрос от ${userId}` });
  const reply = nextMatching<Wire>(socket, "new_message", (m) => m.direction === "support");
  await agentReplies(sent.message_id ?? -1, `ответ для ${userId}`);
  expect(await reply).toMatchObject({ user_id: userId, message: `ответ для ${userId}`, direction: "support" });
}

describe("socket.io-client", () => {
  test.each<[string, string, SocketClientOptions]>([
    ["with its default transports", "sock-default", {}],
    ["with WebSocket only", "sock-websocket", { transports: ["websocket"] }],
  ])("%s: join, the user's message and the agent's reply arrive", async (_name, userId, options) => {
    const socket = await connectSocket(t.url, options);
    try {
      await roundTrip(socket, userId);
    } finally {
      socket.close();
    }
  });

  test("with its defaults: works over polling, upgrades to WebSocket, and keeps working after", async () => {
    // The WebSocket upgrade is held back (as on a slow network) until the
    // polling phase has carried a whole exchange.
    const gate = await startUpgradeGate(t.url);
    const socket = await connectSocket(gate.url);
    try {
      const engine = socket.io.engine;
      const arrivedOver = (event: string) => new Promise<string>((resolve) => socket.once(event, () => resolve(engine.transport.name)));
      expect(engine.transport.name).toBe("polling");
      const userId = "sock-upgrade";
      const joined = arrivedOver("joined");
      socket.emit("join_chat", { user_id: userId });
      expect(await joined).toBe("polling");
      const before = nextMatching<Wire>(socket, "new_message", (m) => m.message === "до апгрейда");
      await userWrites(userId, "до апгрейда");
      expect(await before).toMatchObject({ user_id: userId, direction: "user" });
      expect(engine.transport.name).toBe("polling");

      const upgraded = new Promise<string>((resolve) => engine.once("upgrade", (transport: { name: string }) => resolve(transport.name)));
      gate.release();
      expect(await upgraded).toBe("websocket");
      expect(gate.upgrades).toBe(1);
      // The room joined over polling still holds after the upgrade.
      const after = nextMatching<Wire>(socket, "new_message", (m) => m.message === "после апгрейда");
      await userWrites(userId, "после апгрейда");
      expect(await after).toMatchObject({ user_id: userId, direction: "user" });
      expect(engine.transport.name).toBe("websocket");
      const rejoined = arrivedOver("joined");
      socket.emit("join_chat", { user_id: userId });
      expect(await rejoined).toBe("websocket");
    } finally {
      socket.close();
      await gate.close();
    }
  });
});

describe("the raw Engine.IO 4 protocol over a WebSocket", () => {
  /** Engine.IO packets as text frames: "0" open, "2" ping, "3" pong, "4" message (+ Socket.IO "0" connect, "2" event). */
  class RawClient {
    readonly frames: string[] = [];
    private waiters: { match: (frame: string) => boolean; resolve: (frame: string) => void }[] = [];

    constructor(readonly ws: WebSocket) {
      ws.on("message", (data: Buffer) => {
        const frame = data.toString("utf8");
        this.frames.push(frame);
        const waiter = this.waiters.find((w) => w.match(frame));
        if (waiter) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      });
    }

    static async open(url: string): Promise<RawClient> {
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
      const client = new RawClient(ws);
      await once(ws, "open");
      return client;
    }

    next(match: (frame: string) => boolean, timeoutMs = 3000): Promise<string> {
      const seen = this.frames.find(match);
      if (seen) {
        this.frames.splice(this.frames.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)), timeoutMs);
        this.waiters.push({
          match,
          resolve: (frame) => {
            clearTimeout(timer);
            this.frames.splice(this.frames.indexOf(frame), 1);
            resolve(frame);
          },
        });
      });
    }

    event(name: string, timeoutMs?: number): Promise<unknown> {
      return this.next((f) => f.startsWith(`42["${name}"`), timeoutMs).then((f) => (JSON.parse(f.slice(2)) as unknown[])[1]);
    }

    send(frame: string): void {
      this.ws.send(frame);
    }
  }

  test("open, connect, join_chat, new_message for the user's message and the agent's reply", async () => {
    const client = await RawClient.open(t.url);
    try {
      const open = JSON.parse((await client.next((f) => f.startsWith("0"))).slice(1)) as { sid: string; upgrades: string[]; pingInterval: number; pingTimeout: number };
      expect(open.sid).toEqual(expect.any(String));
      expect(open.upgrades).toEqual([]);
      expect(open.pingInterval).toBeGreaterThan(0);
      client.send("40");
      const connected = JSON.parse((await client.next((f) => f.startsWith("40"))).slice(2)) as { sid: string };
      expect(connected.sid).toEqual(expect.any(String));

      client.send(`42${JSON.stringify(["join_chat", { user_id: "raw-1" }])}`);
      expect(await client.event("joined")).toEqual({ user_id: "raw-1" });
      const sent = await userWrites("raw-1", "с голого сокета");
      expect(await client.event("new_message")).toMatchObject({ id: sent.id, user_id: "raw-1", message: "с голого сокета", direction: "user" });
      await agentReplies(sent.message_id ?? -1, "ответ голому сокету");
      expect(await client.event("new_message")).toMatchObject({ user_id: "raw-1", message: "ответ голому сокету", direction: "support" });

      client.send(`42${JSON.stringify(["join_chat", {}])}`);
      expect(await client.event("error")).toEqual({ message: expect.stringMatching(/user_id/) });
    } finally {
      client.ws.close();
    }
  });

  test("the server pings; a client that answers pong stays, one that does not is dropped", async () => {
    // The real interval is 25 s; a short one lets the test watch several.
    // (on every instance: in a cluster the sockets may land on any of them)
    const engines = t.apps.map((app) => app.hub.io.engine.opts);
    const saved = engines.map((opts) => ({ pingInterval: opts.pingInterval, pingTimeout: opts.pingTimeout }));
    for (const opts of engines) Object.assign(opts, { pingInterval: 150, pingTimeout: 150 });
    const polite = await RawClient.open(t.url);
    const silent = await RawClient.open(t.url);
    try {
      for (const client of [polite, silent]) {
        await client.next((f) => f.startsWith("0"));
        client.send("40");
        await client.next((f) => f.startsWith("40"));
      }
      polite.ws.on("message", (data: Buffer) => {
        if (data.toString("utf8") === "2") polite.send("3");
      });
      const silentClosed = once(silent.ws, "close");
      for (let i = 0; i < 4; i++) await polite.next((f) => f === "2");
      await silentClosed;
      expect(polite.ws.readyState).toBe(WebSocket.OPEN);
      polite.send(`42${JSON.stringify(["join_chat", { user_id: "raw-ping" }])}`);
      expect(await polite.event("joined")).toEqual({ user_id: "raw-ping" });
    } finally {
      engines.forEach((opts, i) => Object.assign(opts, saved[i]));
      polite.ws.close();
      silent.ws.close();
    }
  });
});
