// The shared "Telegram asked us to wait until T" (SPEC §8): the same
// contract in memory and in Redis (a later pause is never shortened by an
// earlier one, a passed pause is gone, keys are apart), then what only the
// Redis one does: a second instance reads what the first was told, two
// senders pausing at once keep the later time, and with Redis unreachable
// or stalled neither call throws or waits, and each instance still honours
// what it was told itself.
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { openRedis, type ServiceRedis } from "../../server/cluster/redis.js";
import { MemorySharedPause, RedisSharedPause, type SharedPause } from "../../server/cluster/shared-pause.js";
import { engineUrl } from "../engines/engines.js";
import { closedPort, startTcpProxy, type TcpProxy } from "../fixtures/tcp-proxy.js";

const silent = pino({ level: "silent" });
const redisUrl = engineUrl("TEST_REDIS_URL");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Implementation {
  name: string;
  make(): Promise<SharedPause>;
}

const connections: ServiceRedis[] = [];
afterEach(async () => {
  for (const connection of connections.splice(0)) await connection.close();
});
let prefixes = 0;
const freshPrefix = () => `pause-test-${process.pid}-${Date.now()}-${++prefixes}`;

function redisPause(url: string, keyPrefix: string, logger = silent, timeoutMs?: number): RedisSharedPause {
  const redis = openRedis({ url, logger });
  connections.push(redis);
  return new RedisSharedPause({ redis: redis.client, logger, keyPrefix, timeoutMs });
}

const implementations: Implementation[] = [{ name: "in memory", make: () => Promise.resolve(new MemorySharedPause()) }];
if (redisUrl) {
  implementations.push({
    name: "in Redis",
    async make() {
      const pause = redisPause(redisUrl, freshPrefix());
      await connections.at(-1)?.client.ping();
      return pause;
    },
  });
}

describe.each(implementations)("$name", ({ make }) => {
  test("not paused: null", async () => {
    expect(await (await make()).pausedUntil("group")).toBeNull();
  });

  test("a pause holds until its time; a later one extends it, an earlier one does not shorten it", async () => {
    const pause = await make();
    const t = Date.now();
    await pause.pauseUntil("group", t + 5_000);
    expect(await pause.pausedUntil("group")).toBe(t + 5_000);
    await pause.pauseUntil("group", t + 1_000);
    expect(await pause.pausedUntil("group")).toBe(t + 5_000);
    await pause.pauseUntil("group", t + 8_000);
    expect(await pause.pausedUntil("group")).toBe(t + 8_000);
    expect(await pause.pausedUntil("another-group")).toBeNull();
  });

  test("a time already passed is no pause, and a pause is gone once its time passes", async () => {
    const pause = await make();
    await pause.pauseUntil("group", Date.now() - 1);
    expect(await pause.pausedUntil("group")).toBeNull();
    await pause.pauseUntil("group", Date.now() + 150);
    expect(await pause.pausedUntil("group")).not.toBeNull();
    await sleep(250);
    expect(await pause.pausedUntil("group")).toBeNull();
  });
});

test("in memory, on its own clock", async () => {
  let now = 1_000;
  const pause = new MemorySharedPause(() => now);
  await pause.pauseUntil("g", 31_000);
  now = 30_999;
  expect(await pause.pausedUntil("g")).toBe(31_000);
  now = 31_000;
  expect(await pause.pausedUntil("g")).toBeNull();
  await pause.pauseUntil("g", Number.NaN);
  expect(await pause.pausedUntil("g")).toBeNull();
});

describe.skipIf(!redisUrl)("in Redis, across instances", () => {
  test("a sender that has just started, still connecting, waits for Redis rather than miss its predecessor's pause", async () => {
    const prefix = freshPrefix();
    const until = Date.now() + 30_000;
    await redisPause(redisUrl ?? "", prefix).pauseUntil("group", until);
    const newLeader = redisPause(redisUrl ?? "", prefix);
    expect(connections.at(-1)?.client.status).toBe("connecting");
    expect(await newLeader.pausedUntil("group")).toBe(until);
  });

  test("what the old sender was told, the new one reads; the key expires with the pause", async () => {
    const prefix = freshPrefix();
    const oldSender = redisPause(redisUrl ?? "", prefix);
    const newSender = redisPause(redisUrl ?? "", prefix);
    const until = Date.now() + 30_000;
    await oldSender.pauseUntil("group", until);
    expect(await newSender.pausedUntil("group")).toBe(until);

    const ttl = await connections[0]?.client.pttl(`${prefix}:group`);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  test("two senders told at once keep the later time, whichever lands last", async () => {
    const prefix = freshPrefix();
    const a = redisPause(redisUrl ?? "", prefix);
    const b = redisPause(redisUrl ?? "", prefix);
    const reader = redisPause(redisUrl ?? "", prefix);
    const t = Date.now();
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      await Promise.all([a.pauseUntil(key, t + 20_000), b.pauseUntil(key, t + 10_000)]);
      expect(await reader.pausedUntil(key)).toBe(t + 20_000);
    }
    // Strictly in the wrong order, too.
    await a.pauseUntil("ordered", t + 20_000);
    await b.pauseUntil("ordered", t + 10_000);
    expect(await reader.pausedUntil("ordered")).toBe(t + 20_000);
    expect(await connections[0]?.client.pttl(`${prefix}:ordered`)).toBeGreaterThan(15_000);
  });

  test("Redis unreachable: no call throws or waits, this instance honours its own pauses, one warning", async () => {
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const pause = redisPause(`redis://127.0.0.1:${await closedPort()}`, freshPrefix(), logger);
    const client = connections.at(-1)?.client;
    while (client?.status !== "reconnecting") await sleep(5);
    const until = Date.now() + 10_000;
    const started = performance.now();
    await pause.pauseUntil("group", until);
    expect(await pause.pausedUntil("group")).toBe(until);
    expect(await pause.pausedUntil("other")).toBeNull();
    expect(performance.now() - started).toBeLessThan(250);
    const pauseLines = warnings.filter((msg) => msg.startsWith("shared Telegram pause"));
    expect(pauseLines).toHaveLength(1);
    expect(pauseLines[0]).toContain("not connected");
  });

  describe("behind a proxy", () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy(redisUrl ?? "");
    });
    afterAll(async () => {
      await proxy.close();
    });

    test("stalled: each call gives up after its timeout and answers from what this instance knows", async () => {
      const prefix = freshPrefix();
      const pause = redisPause(proxy.url, prefix, silent, 200);
      const other = redisPause(redisUrl ?? "", prefix);
      await connections[0]?.client.ping();
      const told = Date.now() + 20_000;
      await other.pauseUntil("group", told);
      expect(await pause.pausedUntil("group")).toBe(told);

      proxy.stall();
      try {
        const later = told + 5_000;
        let started = performance.now();
        await pause.pauseUntil("group", later);
        expect(performance.now() - started).toBeLessThan(400);
        started = performance.now();
        // What it read before and what it was told since both stay known.
        expect(await pause.pausedUntil("group")).toBe(later);
        expect(performance.now() - started).toBeLessThan(400);
      } finally {
        proxy.resume();
      }
    });
  });
});
