// Rate limits in a cluster (SPEC §8): one count for all instances, kept in
// Redis; with Redis gone each instance enforces its share
// (1/CLUSTER_SIZE), so the limits degrade, never open. The cluster has a
// Redis of its own here, since the test stops it.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson, requestJson } from "../fixtures/http.js";
import type { Cluster } from "./cluster.js";
import { startEngineCluster, type EngineCluster } from "./engine-cluster.js";
import { findNginx } from "./nginx.js";
import type { OwnRedis } from "./redis-server.js";

const GROUP = -1007700445566;
const PER_IP = 6;

describe.skipIf(!findNginx())("rate limits across two instances on PostgreSQL and Redis", () => {
  let engines: EngineCluster;
  let cluster: Cluster;
  let redis: OwnRedis;
  let n = 0;

  beforeAll(async () => {
    engines = await startEngineCluster({ group: GROUP, env: { RATE_LIMIT_REGISTER_PER_IP: `${PER_IP}/60`, CLUSTER_SIZE: "2" } });
    ({ cluster, redis } = engines);
  });
  afterAll(async () => {
    await engines?.close();
  });

  /** One /register_device straight to an instance (every request here comes from 127.0.0.1). */
  const register = async (name: string) => {
    n += 1;
    const res = await postJson(`${cluster.instance(name).url}/register_device`, { user_id: `rl-${n}`, fcm_token: `rl-token-${n}` });
    return { status: res.status, retryAfter: res.headers.get("retry-after") };
  };
  /** The points Redis holds for this address's /register_device window (rate-limiter-flexible keeps one counter per key). */
  const countedInRedis = async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, found] = await client.scan(cursor, "MATCH", "*rl:ip:register:*", "COUNT", 1000);
        cursor = next;
        keys.push(...found.filter((key) => !key.includes("burst")));
      } while (cursor !== "0");
      expect(keys, "one shared counter for the address").toHaveLength(1);
      return Number(await client.get(keys[0]!));
    } finally {
      client.disconnect();
    }
  };
  const statuses = async (name: string, count: number) => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push((await register(name)).status);
    return out;
  };

  test("one count for the cluster: what instance a let through is spent on instance b", async () => {
    expect(await statuses("a", PER_IP)).toEqual(Array(PER_IP).fill(200));
    const refused = await register("b");
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
  });

  test("with Redis stopped each instance allows its share (1/CLUSTER_SIZE) and refuses beyond it; /ready says why", async () => {
    await redis.stop();
    // Each instance now counts alone, from zero, with half the points: 3 + 3, never 6 + 6 or unlimited.
    const share = Math.ceil(PER_IP / 2);
    for (const name of ["a", "b"]) {
      const seen = await statuses(name, share + 2);
      expect(seen, name).toEqual([...Array(share).fill(200), 429, 429]);
    }
    const ready = await requestJson<{ reason?: string }>(`${cluster.instance("a").url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/redis/i);
    // The service itself keeps answering.
    expect((await requestJson(`${cluster.lbUrl}/health`)).status).toBe(200);
  }, 30_000);

  test("once Redis is back the instances are ready again and count together", async () => {
    await redis.start();
    for (const name of ["a", "b"]) await expect.poll(async () => (await requestJson(`${cluster.instance(name).url}/ready`)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    // Both instances spent their own shares in the test before, so a 200 from
    // one of them now can only be Redis's count: wait until each is back on it
    // (a limiter call that meets a Redis still reconnecting falls back to the share).
    for (const name of ["a", "b"]) await expect.poll(async () => (await register(name)).status, { timeout: 10_000, interval: 200 }).toBe(200);
    // A Redis that lost its data starts the shared window afresh. What it has
    // counted since is at least the two 200s above, and more when a call
    // outlasted the limiter's timeout (counted in Redis, answered from the share).
    const spent = await countedInRedis();
    expect(spent).toBeGreaterThanOrEqual(2);
    expect(spent).toBeLessThan(PER_IP);
    // What is left of the shared window is the same for both instances.
    expect(await statuses("b", PER_IP - spent)).toEqual(Array(PER_IP - spent).fill(200));
    expect((await register("a")).status).toBe(429);
    expect(await countedInRedis()).toBeGreaterThanOrEqual(PER_IP);
  }, 30_000);
});
