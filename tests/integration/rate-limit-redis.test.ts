// Rate limits across instances (SPEC §8) on a real Redis: two
// RequestLimiters, each on its own Redis connection as two processes would
// be, count one limit together; with Redis unreachable or stalled each
// counts its share (the limit divided by the instance count, rounded up) in
// memory and refuses past it, at once: the limits degrade, they never open,
// and no request waits for Redis. Without Redis nothing changes (in memory,
// per process).
import type { IncomingMessage } from "node:http";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { openRedis, type ServiceRedis } from "../../server/cluster/redis.js";
import { NO_RATE_LIMITS } from "../../server/config/rate-limits.js";
import { isAppError } from "../../server/errors.js";
import { instanceShare, REDIS_TIMEOUT_MS, RequestLimiter, withOverrides, type RateLimitOverrides, type SharedLimits } from "../../server/http/rate-limit.js";
import { engineUrl } from "../engines/engines.js";
import { closedPort, startTcpProxy, type TcpProxy } from "../fixtures/tcp-proxy.js";

const logger = pino({ level: "silent" });
const redisUrl = engineUrl("TEST_REDIS_URL");

const LIMITS = withOverrides(NO_RATE_LIMITS, {
  perUser: { send: { points: 5, windowSeconds: 60 }, read: { points: 2, windowSeconds: 60, burstPoints: 2, burstWindowSeconds: 600 } },
  perIp: { send: { points: 4, windowSeconds: 60 } },
  perSocket: { join: { points: 2, windowSeconds: 60 } },
} satisfies RateLimitOverrides);

type Outcome = "ok" | { retryAfterSeconds: number | undefined };

/** What one request gets: admitted, or refused with its retry-after; how long it took. */
async function attempt(admit: () => Promise<void>): Promise<{ outcome: Outcome; ms: number }> {
  const started = performance.now();
  try {
    await admit();
    return { outcome: "ok", ms: performance.now() - started };
  } catch (error) {
    if (isAppError(error) && error.code === "TOO_MANY_REQUESTS") return { outcome: { retryAfterSeconds: error.details.retryAfterSeconds }, ms: performance.now() - started };
    throw error;
  }
}

const send = (limiter: RequestLimiter, user: string) => attempt(() => limiter.admitUser("send", user));
const outcomes = async (limiter: RequestLimiter, user: string, times: number) => {
  const got: Outcome[] = [];
  for (let i = 0; i < times; i++) got.push((await send(limiter, user)).outcome);
  return got;
};
const fromAddress = (address: string) => ({ socket: { remoteAddress: address }, headers: {} }) as unknown as IncomingMessage;

test("an instance's share of a limit: divided by the instances, rounded up, at least 1", () => {
  expect(instanceShare(5, 2)).toBe(3);
  expect(instanceShare(5, 3)).toBe(2);
  expect(instanceShare(10, 3)).toBe(4);
  expect(instanceShare(1, 4)).toBe(1);
  expect(instanceShare(30, 1)).toBe(30);
  expect(instanceShare(5, 0)).toBe(5);
});

test("without Redis, each limiter counts alone in memory (one process, as before)", async () => {
  const a = new RequestLimiter({ limits: LIMITS, trustProxy: false });
  const b = new RequestLimiter({ limits: LIMITS, trustProxy: false });
  expect(await outcomes(a, "solo", 5)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
  expect(await outcomes(b, "solo", 5)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
  const refused = (await send(a, "solo")).outcome;
  expect(refused).not.toBe("ok");
});

describe.skipIf(!redisUrl)("on a real Redis", () => {
  const connections: ServiceRedis[] = [];
  let prefixes = 0;
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close();
  });

  /** A limiter as one instance would build it, on a connection of its own; all of one test share a key prefix. */
  function instance(url: string, instances: number, keyPrefix: string): RequestLimiter {
    const redis = openRedis({ url, logger });
    connections.push(redis);
    const shared: SharedLimits = { redis: redis.client, instances, keyPrefix };
    return new RequestLimiter({ limits: LIMITS, trustProxy: false, shared });
  }
  const freshPrefix = () => `rl-test-${process.pid}-${Date.now()}-${++prefixes}`;
  const ready = (limiter: RequestLimiter[]) => Promise.all(connections.slice(-limiter.length).map((c) => c.client.ping()));

  test("two instances count one limit per user: 3 on A and 2 on B pass, the 6th on either is refused with a retry-after", async () => {
    const prefix = freshPrefix();
    const a = instance(redisUrl ?? "", 2, prefix);
    const b = instance(redisUrl ?? "", 2, prefix);
    await ready([a, b]);

    expect(await outcomes(a, "shared-user", 3)).toEqual(["ok", "ok", "ok"]);
    expect(await outcomes(b, "shared-user", 2)).toEqual(["ok", "ok"]);
    for (const limiter of [a, b]) {
      const { outcome } = await send(limiter, "shared-user");
      expect(outcome).not.toBe("ok");
      if (outcome !== "ok") {
        expect(outcome.retryAfterSeconds).toBeGreaterThanOrEqual(59);
        expect(outcome.retryAfterSeconds).toBeLessThanOrEqual(60);
      }
    }
    // Another user has a count of its own.
    expect(await outcomes(b, "other-user", 1)).toEqual(["ok"]);
  });

  test("per address and with a burst allowance too; per connection stays per instance", async () => {
    const prefix = freshPrefix();
    const a = instance(redisUrl ?? "", 2, prefix);
    const b = instance(redisUrl ?? "", 2, prefix);
    await ready([a, b]);

    const ip = fromAddress("203.0.113.7");
    const byIp = [];
    for (const limiter of [a, b, a, b, a]) byIp.push((await attempt(() => limiter.admitIp("send", ip))).outcome);
    expect(byIp.slice(0, 4)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(byIp[4]).not.toBe("ok");

    // read: 2 a minute plus 2 of burst, across both.
    const reads = [];
    for (const limiter of [a, b, a, b, b]) reads.push((await attempt(() => limiter.admitUser("read", "bursty"))).outcome);
    expect(reads.slice(0, 4)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(reads[4]).not.toBe("ok");

    // A Socket.IO connection lives on one instance: its joins count there.
    for (const limiter of [a, b]) {
      expect((await attempt(() => limiter.admitSocket("join", "sock-1"))).outcome).toBe("ok");
      expect((await attempt(() => limiter.admitSocket("join", "sock-1"))).outcome).toBe("ok");
    }
    expect((await attempt(() => a.admitSocket("join", "sock-1"))).outcome).not.toBe("ok");
  });

  test("Redis unreachable: each instance admits its share (5 over 2 → 3), refuses past it, and never waits", async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const prefix = freshPrefix();
    const a = instance(url, 2, prefix);
    const b = instance(url, 2, prefix);
    for (const limiter of [a, b]) {
      const got = [];
      for (let i = 0; i < 4; i++) got.push(await send(limiter, "outage-user"));
      expect(got.map((g) => g.outcome).slice(0, 3)).toEqual(["ok", "ok", "ok"]);
      const refused = got[3]?.outcome;
      expect(refused).not.toBe("ok");
      if (refused && refused !== "ok") expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
      for (const { ms } of got) expect(ms).toBeLessThan(250);
    }
    // Three instances: 5 → 2 each.
    const c = instance(url, 3, prefix);
    expect(await outcomes(c, "outage-user-3", 3)).toEqual(["ok", "ok", expect.objectContaining({ retryAfterSeconds: expect.any(Number) as number })]);
  });

  describe("Redis behind a proxy the test cuts and stalls", () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy(redisUrl ?? "");
    });
    afterAll(async () => {
      await proxy.close();
    });

    test("stalled (connected, not answering): requests fall to the share after the timeout instead of hanging", async () => {
      const prefix = freshPrefix();
      const a = instance(proxy.url, 2, prefix);
      await ready([a]);
      expect(await outcomes(a, "stall-user", 1)).toEqual(["ok"]);

      proxy.stall();
      try {
        const got = [];
        for (let i = 0; i < 4; i++) got.push(await send(a, "stall-user"));
        // The share (3) counts from zero: what Redis counted is out of reach.
        expect(got.map((g) => g.outcome).slice(0, 3)).toEqual(["ok", "ok", "ok"]);
        expect(got[3]?.outcome).not.toBe("ok");
        for (const { ms } of got) {
          expect(ms).toBeGreaterThanOrEqual(REDIS_TIMEOUT_MS - 20);
          expect(ms).toBeLessThan(REDIS_TIMEOUT_MS + 300);
        }
      } finally {
        proxy.resume();
      }
    });

    test("cut and back: the share while away, the shared count again once reconnected", async () => {
      const prefix = freshPrefix();
      const a = instance(proxy.url, 2, prefix);
      const b = instance(proxy.url, 2, prefix);
      await ready([a, b]);
      expect(await outcomes(a, "cut-user", 4)).toEqual(["ok", "ok", "ok", "ok"]);

      await proxy.cut();
      try {
        const deadline = Date.now() + 2_000;
        while (connections.some((c) => c.client.status === "ready") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        // B has its own 3 while Redis is away, whatever Redis counted.
        expect(await outcomes(b, "cut-user", 4)).toEqual(["ok", "ok", "ok", expect.objectContaining({ retryAfterSeconds: expect.any(Number) as number })]);
      } finally {
        await proxy.restore();
      }
      await ready([a, b]);
      while (connections.some((c) => c.client.status !== "ready")) await new Promise((resolve) => setTimeout(resolve, 10));
      // Back on Redis: A's 4 from before count, so one more passes and the next does not.
      expect(await outcomes(b, "cut-user", 2)).toEqual(["ok", expect.objectContaining({ retryAfterSeconds: expect.any(Number) as number })]);
    });
  });
});
