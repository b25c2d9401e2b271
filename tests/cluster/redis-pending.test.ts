// PENDING (issue 10): a socket on one instance gets an agent reply that
// arrived on the OTHER instance. That needs Socket.IO's Redis adapter
// (REDIS_URL), which this release does not have yet: without it the event
// stays on the instance the webhook reached, and this test fails.
//
// It runs only when CLUSTER_REDIS_URL names a Redis server (e.g.
// CLUSTER_REDIS_URL=$TEST_REDIS_URL after `. tests/engines/start.sh`); the
// run reports it as skipped otherwise, never as passed. When the adapter
// lands, pass REDIS_URL in the cluster tests always and drop the skipIf.
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson } from "../fixtures/http.js";
import { connectSocket, joinChat, nextMatching, type SocketClientOptions } from "../fixtures/socket.js";
import type { ChatItem, SendAnswer } from "../fixtures/wire.js";
import { startCluster, WEBHOOK_SECRET, type Cluster } from "./cluster.js";
import { findNginx } from "./nginx.js";

const GROUP = -1007700778899;
const redisUrl = process.env.CLUSTER_REDIS_URL;

describe.skipIf(!redisUrl || !findNginx())("PENDING on the Redis adapter: events across instances", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ group: GROUP, redisUrl });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  test.each<[string, SocketClientOptions]>([
    ["default", {}],
    ["websocket", { transports: ["websocket"] }],
  ])("a socket (%s transports) through nginx gets an agent reply posted to the other instance", async (name, options) => {
    const user = `cross-${name}`;
    const sent = await postJson<SendAnswer>(`${cluster.lbUrl}/send_message`, { user_id: user, message: `cross-question ${user}` });
    expect(sent.status).toBe(200);
    await expect.poll(() => cluster.tg.sent(GROUP).some((m) => m.text?.includes(`cross-question ${user}`)), { timeout: 10_000 }).toBe(true);
    const question = cluster.tg.sent(GROUP).find((m) => m.text?.includes(`cross-question ${user}`));

    const socket: Socket = await connectSocket(cluster.lbUrl, options);
    try {
      await joinChat(socket, user);
      const counts: Record<string, number> = {};
      for (const i of cluster.instances) counts[i.name] = await cluster.metric(i.name, "realtime_connected_sockets");
      const elsewhere = cluster.instances.find((i) => counts[i.name] === 0);
      expect(elsewhere, JSON.stringify(counts)).toBeDefined();

      const text = `reply via the other instance ${user}`;
      const arriving = nextMatching<ChatItem>(socket, "new_message", (m) => m.message === text, 5_000);
      const update = cluster.tg.updates.groupText({ chatId: GROUP, text, replyTo: question?.message_id });
      const res = await fetch(`${elsewhere?.url}/api/telegram/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET },
        body: JSON.stringify(update),
      });
      expect(res.status).toBe(200);
      expect(await arriving).toMatchObject({ user_id: user, message: text, direction: "support" });
    } finally {
      socket.close();
    }
  });
});
