// Two instances on PostgreSQL and Redis behind the shipped nginx config,
// Telegram in webhook mode: the cluster of SPEC §8. The tests run in order
// on one cluster; the last one kills the leader (takeover-retry-after.test.ts
// kills one during a 429's pause).
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SENDER_LEASE_TTL_MS } from "../../server/app.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import { makePng } from "../fixtures/images.js";
import { connectSocket, joinChat, nextMatching, type SocketClientOptions } from "../fixtures/socket.js";
import type { ChatItem, SendAnswer } from "../fixtures/wire.js";
import { WEBHOOK_SECRET, type Cluster } from "./cluster.js";
import { leaderNames, postedTexts, sendViaLb as send, startEngineCluster, type EngineCluster } from "./engine-cluster.js";
import { findNginx } from "./nginx.js";

const GROUP = -1007700112233;
const REGISTER_PER_IP = 4;

describe.skipIf(!findNginx())("two instances on PostgreSQL and Redis behind nginx, webhook mode", () => {
  let engines: EngineCluster;
  let cluster: Cluster;

  beforeAll(async () => {
    // A Redis of its own: the limits' counts of an earlier run must not carry over.
    engines = await startEngineCluster({
      group: GROUP,
      // A small per-address limit on /register_device for the X-Forwarded-For
      // test; the sends of all tests here come from one address, counted once for the cluster.
      env: { RATE_LIMIT_REGISTER_PER_IP: `${REGISTER_PER_IP}/60`, RATE_LIMIT_SEND_PER_IP: "200/60" },
    });
    cluster = engines.cluster;
    // Telegram's own limit into one group; the service's pacing must keep under it.
    cluster.tg.setGroupLimit({ limit: 20, windowMs: 60_000 });
  });
  afterAll(async () => {
    await engines?.close();
  });

  const posted = (prefix: string) => postedTexts(cluster, GROUP, prefix);
  const sendCallers = () => new Set(cluster.tg.callsTo("sendMessage").map((c) => c.caller));
  const leaderName = () => leaderNames(cluster);
  const sendViaLb = (userId: string, text: string): Promise<SendAnswer> => send(cluster, userId, text);

  const sendsOn = (name: string) => cluster.metric(name, "http_requests_total", { route: "/send_message", status: "200" });

  function webhookTo(url: string, update: unknown): Promise<Response> {
    return fetch(`${url}/api/telegram/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET },
      body: JSON.stringify(update),
    });
  }

  async function supportItems(userId: string, text: string): Promise<ChatItem[]> {
    const res = await requestJson<{ messages: ChatItem[] }>(`${cluster.lbUrl}/message_history/${userId}?limit=200`);
    expect(res.status).toBe(200);
    return res.body.messages.filter((m) => m.direction === "support" && m.message === text);
  }

  test("exactly one instance is the leader, and each names itself", async () => {
    const healths = await cluster.healths();
    expect(healths.map((h) => h.instance).sort()).toEqual(["a", "b"]);
    expect(healths.filter((h) => h.leader)).toHaveLength(1);
    // The lease does not flap: still one and the same leader a renewal later (TTL/3).
    const first = await leaderName();
    await new Promise((resolve) => setTimeout(resolve, SENDER_LEASE_TTL_MS / 3 + 500));
    expect(await leaderName()).toEqual(first);
    // nginx answers from one of them.
    const viaLb = await requestJson<{ instance: string }>(`${cluster.lbUrl}/health`);
    expect(["a", "b"]).toContain(viaLb.body.instance);
  });

  test("sends through nginx spread over both instances, reach the group once each, in order, from the leader only", async () => {
    const before = { a: await sendsOn("a"), b: await sendsOn("b") };
    // Eight: the group's budget (20 a minute) must leave room for the takeover test's six.
    const texts = Array.from({ length: 8 }, (_, i) => `spread-${String(i).padStart(2, "0")}`);
    const started = Date.now();
    // Two users: one user's burst allowance is 10 sends (config/rate-limits.ts).
    // Each answers "sent" with Telegram's id, also from the instance that does not send (it hears the sender).
    for (const [i, text] of texts.entries()) {
      const answer = await sendViaLb(`su-${i % 2}`, text);
      expect(answer.delivery, text).toBe("sent");
      expect(answer.message_id).toEqual(expect.any(Number));
    }
    // Both instances answered a share (nginx's round robin), not one of them all.
    const share = { a: (await sendsOn("a")) - before.a, b: (await sendsOn("b")) - before.b };
    expect(share.a + share.b).toBe(texts.length);
    expect(share.a).toBeGreaterThanOrEqual(3);
    expect(share.b).toBeGreaterThanOrEqual(3);

    await expect.poll(() => posted("spread-").length, { timeout: 15_000, interval: 100 }).toBe(texts.length);
    expect(posted("spread-")).toEqual(texts);
    // Eight is within Telegram's 20 a minute: no waiting beyond the sends themselves, no 429.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(cluster.tg.stats.groupLimited).toBe(0);
    expect(cluster.tg.stats.tooManyRequests).toBe(0);
    expect(sendCallers()).toEqual(new Set(await leaderName()));
  });

  test("the same webhook update POSTed to both instances at once is stored once", async () => {
    const question = cluster.tg.sent(GROUP).find((m) => m.text?.includes("spread-01"));
    expect(question).toBeDefined();
    const update = cluster.tg.updates.groupText({ chatId: GROUP, text: "one answer for two instances", replyTo: question?.message_id });
    const [a, b] = await Promise.all(cluster.instances.map((i) => webhookTo(i.url, update)));
    // Telegram redelivers anything but 200; at least one instance must have taken it.
    const statuses = [a?.status, b?.status];
    expect(statuses).toContain(200);
    for (const status of statuses) expect([200, 503]).toContain(status);
    await expect.poll(() => supportItems("su-1", "one answer for two instances").then((items) => items.length), { timeout: 5_000 }).toBe(1);
    // Telegram's redelivery, to each instance again: still once.
    for (const instance of cluster.instances) expect((await webhookTo(instance.url, update)).status).toBe(200);
    expect(await supportItems("su-1", "one answer for two instances")).toHaveLength(1);
  });

  /** Which instance holds the sockets nginx routed (affinity: all of this test's, one client address). */
  async function socketsPerInstance(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const instance of cluster.instances) out[instance.name] = await cluster.metric(instance.name, "realtime_connected_sockets");
    return out;
  }

  test("Socket.IO through nginx (polling then upgrade, polling only, WebSocket only) gets an agent reply that arrives on the same instance", async () => {
    const user = "su-0";
    const question = cluster.tg.sent(GROUP).find((m) => m.text?.includes("spread-00"));
    const sockets: Socket[] = [];
    try {
      const upgraded = await connectSocket(cluster.lbUrl);
      sockets.push(upgraded);
      // The upgrade's GET must reach the instance that made the polling session.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no upgrade to websocket through nginx within 5 s")), 5_000);
        if (upgraded.io.engine.transport.name === "websocket") resolve();
        upgraded.io.engine.once("upgrade", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      expect(upgraded.io.engine.transport.name).toBe("websocket");
      const polling = await connectSocket(cluster.lbUrl, { transports: ["polling"] });
      sockets.push(polling);
      const websocket = await connectSocket(cluster.lbUrl, { transports: ["websocket"] });
      sockets.push(websocket);
      for (const socket of sockets) await joinChat(socket, user);

      // Every socket of one client address sits on one instance (hash $remote_addr).
      const counts = await socketsPerInstance();
      const holder = Object.entries(counts).find(([, n]) => n === sockets.length)?.[0];
      expect(holder, JSON.stringify(counts)).toBeDefined();

      // A polling session stays usable over many requests (each one routed anew by nginx).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(polling.connected).toBe(true);

      // The user's phone, for the push that the reply also makes (sent by the leader, via the FCM stand-in).
      const registered = await postJson(`${cluster.lbUrl}/register_device`, { user_id: user, fcm_token: "cluster-phone", platform: "android" });
      expect(registered.status, JSON.stringify(registered.body)).toBe(200);

      const text = "agent reply on the socket's instance";
      const arriving = sockets.map((socket) => nextMatching<ChatItem>(socket, "new_message", (m) => m.message === text, 5_000));
      const update = cluster.tg.updates.groupText({ chatId: GROUP, text, replyTo: question?.message_id });
      expect((await webhookTo(cluster.instance(holder as string).url, update)).status).toBe(200);
      for (const event of await Promise.all(arriving)) expect(event).toMatchObject({ user_id: user, message: text, direction: "support" });
      await expect.poll(() => cluster.fcm.delivered().filter((p) => p.token === "cluster-phone").length, { timeout: 10_000 }).toBe(1);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  test("a client cannot pick its address through nginx: a forged X-Forwarded-For still counts against its own", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4 * REGISTER_PER_IP; i++) {
      // nginx appends the address it sees; the service (TRUST_PROXY=true) takes that last hop, not the forged first.
      const res = await postJson(`${cluster.lbUrl}/register_device`, { user_id: `xff-${i}`, fcm_token: `xff-token-${i}` }, { "X-Forwarded-For": `198.51.100.${i + 1}` });
      statuses.push(res.status);
    }
    // One count for the cluster (Redis), though nginx spread the requests over
    // both instances; the Socket.IO test registered one phone from this address already.
    expect(statuses.filter((s) => s === 200)).toHaveLength(REGISTER_PER_IP - 1);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });

  test("a photo uploaded through nginx is served by every instance (one shared UPLOAD_DIR)", async () => {
    const bytes = makePng(64, 48);
    const res = await requestJson<SendAnswer>(`${cluster.lbUrl}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: "photo-user", message: "photo-01" }, [{ bytes, name: "p.png", type: "image/png" }]),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.photo_count).toBe(1);
    const photoPath = new URL(res.body.photo_url ?? "", cluster.lbUrl).pathname;
    for (const instance of cluster.instances) {
      const photo = await fetch(`${instance.url}${photoPath}`);
      expect(photo.status, `${instance.name} serving ${photoPath}`).toBe(200);
      expect((await photo.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    // And the leader posts it into the group, whichever instance took the upload.
    await expect.poll(() => cluster.tg.callsTo("sendPhoto").filter((c) => c.ok).length, { timeout: 10_000 }).toBe(1);
  });

  // Replies to the spread test's posts: the group's 20 a minute are for the takeover tests.
  test.each<[string, SocketClientOptions, string, string]>([
    ["default", {}, "su-0", "spread-02"],
    ["websocket", { transports: ["websocket"] }, "su-1", "spread-03"],
  ])("a socket (%s transports) through nginx gets an agent reply posted to the other instance", async (name, options, user, post) => {
    const question = cluster.tg.sent(GROUP).find((m) => m.text?.includes(post));
    expect(question).toBeDefined();

    const socket: Socket = await connectSocket(cluster.lbUrl, options);
    try {
      await joinChat(socket, user);
      const counts = await socketsPerInstance();
      const elsewhere = cluster.instances.find((i) => counts[i.name] === 0);
      expect(elsewhere, JSON.stringify(counts)).toBeDefined();

      const text = `reply via the other instance (${name})`;
      const arriving = nextMatching<ChatItem>(socket, "new_message", (m) => m.message === text, 5_000);
      const res = await webhookTo(elsewhere?.url ?? "", cluster.tg.updates.groupText({ chatId: GROUP, text, replyTo: question?.message_id }));
      expect(res.status).toBe(200);
      expect(await arriving).toMatchObject({ user_id: user, message: text, direction: "support" });
    } finally {
      socket.close();
    }
  });

  test("an agent's /info that lands on the instance that does not send is answered in the group by the one that does", async () => {
    const [leader] = await leaderName();
    const follower = cluster.instances.find((i) => i.name !== leader);
    const post = cluster.tg.sent(GROUP).find((m) => m.text?.includes("spread-04"));
    expect(post).toBeDefined();
    const update = cluster.tg.updates.groupText({ chatId: GROUP, text: "/info", replyTo: post?.message_id });
    const commandId = (update as { message: { message_id: number } }).message.message_id;
    expect((await webhookTo(follower?.url ?? "", update)).status).toBe(200);
    await expect.poll(() => cluster.tg.sent(GROUP).filter((m) => m.reply_to_message?.message_id === commandId).length, { timeout: 10_000, interval: 100 }).toBe(1);
    const answer = cluster.tg.sent(GROUP).find((m) => m.reply_to_message?.message_id === commandId);
    expect(answer?.text).toContain("su-0");
    // Everything the bot posted into the group so far came from the sender: answers and reactions too.
    for (const method of ["sendMessage", "setMessageReaction"]) expect(new Set(cluster.tg.callsTo(method).filter((c) => c.ok).map((c) => c.caller)), method).toEqual(new Set([leader]));
  });

  test("SIGKILL of the leader with messages queued: the other takes over within 15 s and delivers them once, in order", async () => {
    const [leader] = await leaderName();
    const other = cluster.instances.find((i) => i.name !== leader)?.name as string;
    expect(leader).toBeDefined();

    cluster.tg.setDown(true);
    // Few: the earlier tests' posts, answers and reactions used most of the group's 20 a minute.
    const queued = Array.from({ length: 3 }, (_, i) => `takeover-q${i}`);
    for (const text of queued) expect((await sendViaLb("tk-user", text)).delivery).toBe("queued");
    await cluster.kill(leader as string);
    const killedAt = Date.now();
    cluster.tg.setDown(false);

    // nginx skips the dead instance (connection refused → next upstream): clients see no error.
    const after = ["takeover-a0"];
    for (const text of after) await sendViaLb("tk-user", text);

    await expect.poll(async () => (await cluster.health(other)).leader, { timeout: 15_000, interval: 100 }).toBe(true);
    const tookOverMs = Date.now() - killedAt;
    // The dead leader's lease ran out on the database's clock first (renewed at most TTL/3 before the kill).
    expect(tookOverMs).toBeGreaterThan((SENDER_LEASE_TTL_MS * 2) / 3 - 500);
    expect(tookOverMs).toBeLessThan(15_000);
    await expect.poll(() => posted("takeover-").length, { timeout: 15_000 - tookOverMs, interval: 100 }).toBe(queued.length + after.length);
    const deliveredMs = Date.now() - killedAt;
    expect(posted("takeover-")).toEqual([...queued, ...after]);
    expect(deliveredMs).toBeLessThan(15_000);
    console.info(`cluster takeover after SIGKILL: leader in ${tookOverMs} ms, queue delivered in ${deliveredMs} ms`);

    // The killed instance comes back as a follower; still exactly one leader.
    await cluster.start(leader as string);
    const healths = await cluster.healths();
    expect(healths.filter((h) => h.leader).map((h) => h.instance)).toEqual([other]);
    expect(cluster.tg.stats.groupLimited).toBe(0);
  }, 60_000);

});
