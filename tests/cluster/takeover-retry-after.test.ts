// A 429's retry_after holds for the whole cluster (SPEC §8): the sender
// keeps it in Redis, so an instance that takes over after the sender died
// waits out what Telegram told its predecessor instead of being told again.
// A cluster of its own: a fresh group budget, and a Redis no other test shares.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson } from "../fixtures/http.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { clusterEngines, startCluster, type Cluster } from "./cluster.js";
import { findNginx } from "./nginx.js";
import { startOwnRedis, type OwnRedis } from "./redis-server.js";

const GROUP = -1007700998877;

describe.skipIf(!findNginx())("retry_after across a takeover, two instances on PostgreSQL and Redis", () => {
  let cluster: Cluster;
  let redis: OwnRedis;
  let dropDatabase: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    redis = await startOwnRedis();
    const engines = await clusterEngines(redis.url);
    dropDatabase = engines.drop;
    cluster = await startCluster({ group: GROUP, databaseUrl: engines.databaseUrl, redisUrl: engines.redisUrl });
  });
  afterAll(async () => {
    await cluster?.close();
    await redis?.stop();
    await dropDatabase();
  });

  const posted = (prefix: string) => cluster.tg.sent(GROUP).flatMap((m) => (m.text?.includes(prefix) ? [m.text.slice(m.text.indexOf(prefix))] : []));
  const leaderName = async () => (await cluster.healths()).filter((h) => h.leader).map((h) => h.instance);
  async function sendViaLb(userId: string, text: string): Promise<SendAnswer> {
    const res = await postJson<SendAnswer>(`${cluster.lbUrl}/send_message`, { user_id: userId, message: text });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  test("a 429's retry_after holds across a takeover: the new leader waits out what Telegram told the old one", async () => {
    const [leader] = await leaderName();
    const next = cluster.instances.find((i) => i.name !== leader)?.name as string;
    // Longer than a takeover (the lease's TTL), so a new leader that forgot it would post too early.
    const retryAfterSeconds = 14;
    cluster.tg.failNext(1, { kind: "retry-after", seconds: retryAfterSeconds }, ["sendMessage"]);
    expect((await sendViaLb("ra-user", "retry-after-0")).delivery).toBe("queued");
    const refused = cluster.tg.callsTo("sendMessage").find((c) => c.retryAfter === retryAfterSeconds);
    expect(refused?.caller).toBe(leader);
    await cluster.kill(leader as string);
    await sendViaLb("ra-user", "retry-after-1");

    await expect.poll(async () => (await cluster.health(next)).leader, { timeout: 15_000, interval: 100 }).toBe(true);
    await expect.poll(() => posted("retry-after-").length, { timeout: 30_000, interval: 100 }).toBe(2);
    const delivered = cluster.tg.callsTo("sendMessage").filter((c) => c.ok && String(c.params.text ?? "").includes("retry-after-"));
    expect(delivered.map((c) => c.caller)).toEqual([next, next]);
    expect(posted("retry-after-")).toEqual(["retry-after-0", "retry-after-1"]);
    // Not before the pause Telegram asked for ran out, though the takeover came earlier.
    expect((delivered[0]?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 250);
    expect(cluster.tg.callsTo("sendMessage").filter((c) => c.status === 429)).toHaveLength(1);
  }, 60_000);
});
