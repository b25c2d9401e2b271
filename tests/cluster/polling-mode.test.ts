// TELEGRAM_MODE=polling with two instances (SPEC §8): Telegram allows one
// getUpdates consumer per bot (a second gets 409 Conflict), so only the
// leader polls; when it stops, the other one takes over the polling.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson, requestJson } from "../fixtures/http.js";
import type { ChatItem, SendAnswer } from "../fixtures/wire.js";
import { clusterEngines, startCluster, type Cluster } from "./cluster.js";
import { findNginx } from "./nginx.js";

const GROUP = -1007700445566;

// On one SQLite file (two processes of a rolling restart) and on PostgreSQL + Redis (a cluster).
const storages = [
  { name: "one SQLite file", engines: async () => ({ drop: async () => undefined }) },
  { name: "PostgreSQL and Redis", engines: () => clusterEngines() },
];

describe.skipIf(!findNginx()).each(storages)("two instances behind nginx on $name, polling mode", (storage) => {
  let cluster: Cluster;
  let dropDatabase: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const engines: { databaseUrl?: string; redisUrl?: string; drop(): Promise<void> } = await storage.engines();
    dropDatabase = engines.drop;
    cluster = await startCluster({ group: GROUP, databaseUrl: engines.databaseUrl, redisUrl: engines.redisUrl, env: { TELEGRAM_MODE: "polling" } });
  });
  afterAll(async () => {
    await cluster?.close();
    await dropDatabase();
  });

  const pollers = (since: number) => new Set(cluster.tg.callsTo("getUpdates").filter((c) => c.at >= since).map((c) => c.caller));
  const leaders = async () => (await cluster.healths()).filter((h) => h.leader).map((h) => h.instance);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test("only the leader polls, and an update it fetches is stored once", async () => {
    const [leader] = await leaders();
    expect(leader).toBeDefined();
    const since = Date.now();
    // A few of the stand-in's 2 s long polls.
    await pause(5_000);
    expect(pollers(since)).toEqual(new Set([leader]));
    expect(cluster.tg.callsTo("getUpdates").filter((c) => c.status === 409)).toEqual([]);

    const sent = await postJson<SendAnswer>(`${cluster.lbUrl}/send_message`, { user_id: "poll-user", message: "poll-question" });
    expect(sent.status).toBe(200);
    await expect.poll(() => cluster.tg.sent(GROUP).filter((m) => m.text?.includes("poll-question")).length, { timeout: 10_000 }).toBe(1);
    const question = cluster.tg.sent(GROUP).find((m) => m.text?.includes("poll-question"));
    cluster.tg.pushUpdate(cluster.tg.updates.groupText({ chatId: GROUP, text: "polled answer", replyTo: question?.message_id }));
    const answers = async () => {
      const res = await requestJson<{ messages: ChatItem[] }>(`${cluster.lbUrl}/message_history/poll-user`);
      return res.body.messages.filter((m) => m.direction === "support" && m.message === "polled answer").length;
    };
    await expect.poll(answers, { timeout: 10_000 }).toBe(1);
  });

  test("when the polling leader stops (SIGTERM), the other one polls instead, and only it", async () => {
    const [leader] = await leaders();
    const other = cluster.instances.find((i) => i.name !== leader)?.name as string;
    expect(await cluster.stop(leader as string)).toBe(0);
    await expect.poll(async () => (await cluster.health(other)).leader, { timeout: 10_000, interval: 100 }).toBe(true);
    const since = Date.now();
    await pause(4_500);
    expect(pollers(since)).toEqual(new Set([other]));

    // Back as a follower, it does not poll.
    await cluster.start(leader as string);
    const back = Date.now();
    await pause(4_500);
    expect(pollers(back)).toEqual(new Set([other]));
  });
});
