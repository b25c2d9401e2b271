// Socket.IO across instances (SPEC §8): two RealtimeHubs on two real HTTP
// servers, each with its own Redis connection (as two processes would
// have) and the Redis streams adapter. A socket.io-client joined to a user
// on hub A gets what hub B emits to that user, over the default transports
// and over WebSocket only, and neither a Redis blip (every connection
// killed) nor a short outage between two emits loses or repeats an event.
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import pino from "pino";
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { openRedis, type ServiceRedis } from "../../server/cluster/redis.js";
import { RealtimeHub } from "../../server/realtime/hub.js";
import type { ChatMessage, ChatMessageWire } from "../../server/support/types.js";
import { engineUrl } from "../engines/engines.js";
import { connectSocket, joinChat, type SocketClientOptions } from "../fixtures/socket.js";
import { startTcpProxy, type TcpProxy } from "../fixtures/tcp-proxy.js";

const logger = pino({ level: "silent" });
const redisUrl = engineUrl("TEST_REDIS_URL");

interface Instance {
  hub: RealtimeHub;
  url: string;
  redis: ServiceRedis;
  close(): Promise<void>;
}

/** One instance's realtime part: an HTTP server, its own Redis connection, a hub on the adapter. */
async function startInstance(url: string, streamName: string, timing: { socketTimeoutMs?: number; blockTimeInMs?: number } = {}): Promise<Instance> {
  const httpServer: HttpServer = createServer();
  const redis = openRedis({ url, logger, socketTimeoutMs: timing.socketTimeoutMs });
  // (createAdapter merges its options over the defaults with Object.assign:
  // a key set to undefined would wipe a default, so leave unset ones out)
  const blocking = timing.blockTimeInMs === undefined ? {} : { blockTimeInMs: timing.blockTimeInMs };
  const hub = new RealtimeHub({ httpServer, logger, adapter: createAdapter(redis.client, { streamName, channelPrefix: streamName, ...blocking }) });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  return {
    hub,
    redis,
    url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
    async close() {
      await hub.close();
      await redis.close();
    },
  };
}

let nextId = 1;
function message(userId: string, text: string): ChatMessage {
  return { id: nextId++, userId, text, direction: "support", photoUrls: [], createdAt: new Date() };
}

/** Every new_message the socket gets, in arrival order. */
function collect(socket: Socket): ChatMessageWire[] {
  const got: ChatMessageWire[] = [];
  socket.on("new_message", (payload: ChatMessageWire) => got.push(payload));
  return got;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Until hub B's adapter sees hub A subscribed (each instance reads the stream and the channel on connections of its own). */
async function bothListening(a: Instance, b: Instance): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await b.hub.io.of("/").adapter.serverCount()) < 2 || (await a.hub.io.of("/").adapter.serverCount()) < 2) {
    if (Date.now() > deadline) throw new Error("the hubs never saw each other");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!redisUrl)("two hubs sharing one Redis", () => {
  const sockets: Socket[] = [];
  const instances: Instance[] = [];
  let streams = 0;
  const streamName = () => `rt-test-${process.pid}-${++streams}`;

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const instance of instances.splice(0)) await instance.close();
  });

  async function pair(url: string, timing: Parameters<typeof startInstance>[2] = {}): Promise<[Instance, Instance]> {
    const stream = streamName();
    const a = await startInstance(url, stream, timing);
    instances.push(a);
    const b = await startInstance(url, stream, timing);
    instances.push(b);
    await bothListening(a, b);
    return [a, b];
  }

  async function joined(instance: Instance, userId: string, options: SocketClientOptions = {}): Promise<{ socket: Socket; got: ChatMessageWire[] }> {
    const socket = await connectSocket(instance.url, options);
    sockets.push(socket);
    const got = collect(socket);
    await joinChat(socket, userId);
    return { socket, got };
  }

  test.each<[string, SocketClientOptions]>([
    ["default transports (long-polling, then WebSocket)", {}],
    ["WebSocket only", { transports: ["websocket"] }],
  ])("%s: an emit on hub B reaches the user's socket on hub A, and only that user's", async (_, options) => {
    const [a, b] = await pair(redisUrl ?? "");
    const x = await joined(a, "user-x", options);
    const y = await joined(a, "user-y", options);

    b.hub.emitToUser(message("user-x", "from B"));
    await waitFor("the message on A", () => x.got.length === 1);
    expect(x.got[0]).toMatchObject({ user_id: "user-x", message: "from B", direction: "support" });

    // Hub B counts the socket that lives on hub A.
    expect(await b.hub.socketsOf("user-x")).toBe(1);
    expect(await b.hub.socketsOf("nobody")).toBe(0);

    // Give a wrongly routed event time to show up before looking.
    b.hub.emitToUser(message("user-x", "second"));
    await waitFor("the second message", () => x.got.length === 2);
    expect(y.got).toEqual([]);
  });

  test("every connection to Redis killed between two emits: nothing lost, nothing repeated, order kept", async () => {
    const [a, b] = await pair(redisUrl ?? "");
    const x = await joined(a, "user-blip");
    const admin = new Redis(redisUrl ?? "");
    try {
      b.hub.emitToUser(message("user-blip", "before"));
      await waitFor("the first message", () => x.got.length === 1);

      // Every client connection (the hubs' commands, their stream readers
      // and their subscriptions) but this one.
      const killed = Number(await admin.client("KILL", "TYPE", "normal")) + Number(await admin.client("KILL", "TYPE", "pubsub"));
      expect(killed).toBeGreaterThanOrEqual(6);
      b.hub.emitToUser(message("user-blip", "right after the kill"));
      b.hub.emitToUser(message("user-blip", "and another"));

      await waitFor("the messages after the blip", () => x.got.length >= 3);
      b.hub.emitToUser(message("user-blip", "once reconnected"));
      await waitFor("the last message", () => x.got.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(x.got.map((m) => m.message)).toEqual(["before", "right after the kill", "and another", "once reconnected"]);
    } finally {
      admin.disconnect();
    }
  });

  describe("Redis unreachable for a while", () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy(redisUrl ?? "");
    });
    afterAll(async () => {
      await proxy.close();
    });

    test("idle longer than the socket timeout: the stream readers' blocking XREADs keep their connections", async () => {
      // The default pairing scaled down: SOCKET_TIMEOUT_MS (10 s) above the adapter's 5 s block.
      const [a, b] = await pair(proxy.url, { socketTimeoutMs: 600, blockTimeInMs: 300 });
      const x = await joined(a, "user-idle", { transports: ["websocket"] });
      const accepted = proxy.accepted;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      b.hub.emitToUser(message("user-idle", "after a quiet while"));
      await waitFor("the message", () => x.got.length === 1);
      expect(proxy.accepted).toBe(accepted);
    });

    test("what hub B emits during the outage arrives, in order, once Redis is back", async () => {
      const [a, b] = await pair(proxy.url);
      const x = await joined(a, "user-outage", { transports: ["websocket"] });
      b.hub.emitToUser(message("user-outage", "before"));
      await waitFor("the first message", () => x.got.length === 1);

      await proxy.cut();
      await waitFor("hub B to notice", () => b.redis.client.status !== "ready");
      b.hub.emitToUser(message("user-outage", "during 1"));
      b.hub.emitToUser(message("user-outage", "during 2"));
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(x.got).toHaveLength(1);

      await proxy.restore();
      await waitFor("the messages sent during the outage", () => x.got.length >= 3, 8_000);
      b.hub.emitToUser(message("user-outage", "after"));
      await waitFor("the last message", () => x.got.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(x.got.map((m) => m.message)).toEqual(["before", "during 1", "during 2", "after"]);
    });
  });
});
