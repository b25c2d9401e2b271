// A 429's retry_after holds for the whole cluster (SPEC §8): the sender
// keeps it in Redis, so an instance that takes over after the sender died
// waits out what Telegram told its predecessor instead of being told again.
// A cluster of its own: a fresh group budget, and a Redis no other test shares.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SendAnswer } from "../fixtures/wire.js";
import type { Cluster } from "./cluster.js";
import { leaderNames, postedTexts, sendViaLb as send, startEngineCluster, type EngineCluster } from "./engine-cluster.js";
import { findNginx } from "./nginx.js";

const GROUP = -1007700998877;

describe.skipIf(!findNginx())("retry_after across a takeover, two instances on PostgreSQL and Redis", () => {
  let engines: EngineCluster;
  let cluster: Cluster;

  beforeAll(async () => {
    engines = await startEngineCluster({ group: GROUP });
    cluster = engines.cluster;
  });
  afterAll(async () => {
    await engines?.close();
  });

  const posted = (prefix: string) => postedTexts(cluster, GROUP, prefix);
  const leaderName = () => leaderNames(cluster);
  const sendViaLb = (userId: string, text: string): Promise<SendAnswer> => send(cluster, userId, text);

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
