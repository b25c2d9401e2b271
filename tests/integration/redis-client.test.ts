// The service's Redis connection on a real Redis (SPEC §8): an outage is
// logged once when it starts and once when it ends however many
// reconnection attempts it takes, the client comes back on its own, the
// readiness check fails with a reason a person can act on, and close()
// ends the connection whether or not Redis is there.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openRedis, reconnectDelayMs, redisCheck, redisTarget, MAX_RECONNECT_DELAY_MS, type ServiceRedis } from "../../server/cluster/redis.js";
import { checkReadiness } from "../../server/ops/readiness.js";
import { engineUrl } from "../engines/engines.js";
import { closedPort, startTcpProxy, type TcpProxy } from "../fixtures/tcp-proxy.js";

interface LogLine {
  level: number;
  msg: string;
  redis?: string;
}

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

const waitFor = async (what: string, condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

test("the reconnection backoff doubles from 100 ms and stays capped", () => {
  expect([1, 2, 3, 4, 5].map(reconnectDelayMs)).toEqual([100, 200, 400, 800, 1600]);
  expect(reconnectDelayMs(6)).toBe(MAX_RECONNECT_DELAY_MS);
  expect(reconnectDelayMs(10_000)).toBe(MAX_RECONNECT_DELAY_MS);
});

test("log lines name the server, never the credentials", () => {
  expect(redisTarget("redis://user:s3cret@cache.internal:6380/2")).toBe("cache.internal:6380/2");
  expect(redisTarget("rediss://:s3cret@cache.internal")).toBe("cache.internal:6379");
  expect(redisTarget("not a url")).not.toContain("not a url");
});

const redisUrl = engineUrl("TEST_REDIS_URL");

describe.skipIf(!redisUrl)("on a real Redis", () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(redisUrl ?? "");
  });
  afterAll(async () => {
    await proxy.close();
  });

  test("an outage is one error line with what to check, its end one info line; commands wait and then go through", async () => {
    const { logger, lines } = capturingLogger();
    const redis = openRedis({ url: proxy.url, logger, connectionName: "test-outage" });
    try {
      await redis.client.ping();
      expect(lines).toEqual([]);

      await proxy.cut();
      // Several refused reconnection attempts (100, 200, 400, 800 ms apart).
      const attemptsBefore = proxy.accepted;
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      expect(redis.client.status).not.toBe("ready");
      const queued = redis.client.set("redis-client-test:queued", "yes");

      await proxy.restore();
      await queued;
      expect(await redis.client.get("redis-client-test:queued")).toBe("yes");
      expect(proxy.accepted).toBeGreaterThan(attemptsBefore);

      const errors = lines.filter((line) => line.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.msg).toContain(`Redis at 127.0.0.1:${proxy.port}`);
      expect(errors[0]?.msg).toContain("REDIS_URL");
      const recovered = lines.filter((line) => line.level === 30);
      expect(recovered).toHaveLength(1);
      expect(recovered[0]?.msg).toMatch(/reachable again after \d+\.\d s/);

      // A second outage is logged again.
      await proxy.cut();
      await waitFor("the second outage's line", () => lines.filter((line) => line.level >= 50).length === 2);
      await proxy.restore();
      await waitFor("the second recovery's line", () => lines.filter((line) => line.level === 30).length === 2);
    } finally {
      await proxy.restore();
      await redis.close();
    }
    expect(redis.client.status).toBe("end");
  });

  test("readiness: ready while connected; not ready at once, with the server named, while Redis is away", async () => {
    const { logger } = capturingLogger();
    const redis = openRedis({ url: proxy.url, logger });
    try {
      await redis.client.ping();
      expect(await checkReadiness([redisCheck(redis)])).toEqual({ ready: true });

      await proxy.cut();
      await waitFor("the client to notice", () => redis.client.status !== "ready");
      const started = Date.now();
      const answer = await checkReadiness([redisCheck(redis)]);
      expect(Date.now() - started).toBeLessThan(300);
      expect(answer.ready).toBe(false);
      if (!answer.ready) {
        expect(answer.reason).toContain(`redis: not connected to 127.0.0.1:${proxy.port}`);
        expect(answer.reason).toContain("REDIS_URL");
      }

      await proxy.restore();
      await waitFor("the reconnection", () => redis.client.status === "ready");
      expect(await checkReadiness([redisCheck(redis)])).toEqual({ ready: true });
    } finally {
      await proxy.restore();
      await redis.close();
    }
  });

  test("connected but no answer (a silent network cut): the connection is dropped and reopened after the socket timeout", async () => {
    const { logger, lines } = capturingLogger();
    const redis = openRedis({ url: proxy.url, logger, socketTimeoutMs: 300 });
    try {
      await redis.client.ping();
      const accepted = proxy.accepted;
      proxy.stall();
      const stuck = redis.client.ping();
      await waitFor("the client to give up on the connection", () => redis.client.status !== "ready", 2_000);
      expect(lines.filter((line) => line.level >= 50)).toHaveLength(1);
      proxy.resume();
      // ioredis resends the unanswered PING on the new connection.
      expect(await stuck).toBe("PONG");
      expect(proxy.accepted).toBeGreaterThan(accepted);
      expect(redis.client.status).toBe("ready");
    } finally {
      proxy.resume();
      await redis.close();
    }
  });

  test("an idle connection is not dropped by the socket timeout", async () => {
    const { logger, lines } = capturingLogger();
    const redis = openRedis({ url: proxy.url, logger, socketTimeoutMs: 200 });
    try {
      await redis.client.ping();
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(redis.client.status).toBe("ready");
      expect(lines).toEqual([]);
    } finally {
      await redis.close();
    }
  });

  test("never reachable: one line, not ready, and close() returns at once", async () => {
    const { logger, lines } = capturingLogger();
    const redis: ServiceRedis = openRedis({ url: `redis://127.0.0.1:${await closedPort()}`, logger });
    await waitFor("the outage line", () => lines.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toContain("ECONNREFUSED");
    expect((await checkReadiness([redisCheck(redis)])).ready).toBe(false);
    const started = Date.now();
    await redis.close();
    expect(Date.now() - started).toBeLessThan(300);
    expect(redis.client.status).toBe("end");
    expect(lines).toHaveLength(1);
  });
});
