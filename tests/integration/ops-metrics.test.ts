// GET /metrics as Prometheus scrapes it: the numbers move with real
// traffic (REST, Telegram calls through the stand-in, pushes through the
// FCM stand-in, sockets), labels stay bounded, and API_KEY guards it.
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startFcmStandIn, writeFakeServiceAccount, type FakeServiceAccount, type FcmStandIn } from "../fixtures/fcm-stand-in.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { parseSamples, sampleValue, scrape, type Sample } from "../fixtures/prometheus-text.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

const GROUP = -1001234567890;
const SECRET = "metrics-webhook-secret";

let tg: TelegramStandIn;
let fcm: FcmStandIn;
let account: FakeServiceAccount;
let t: TestApp;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  account = writeFakeServiceAccount({ projectId: "metrics-test" });
  fcm = await startFcmStandIn({ projectId: "metrics-test" });
  t = await startTestApp({
    env: {
      ...tg.envFor(GROUP),
      TELEGRAM_MODE: "webhook",
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      FCM_SERVICE_ACCOUNT_PATH: account.path,
    },
    botInfo: tg.botInfo,
    pushTransport: fcm.transport,
  });
});
afterAll(async () => {
  await t?.close();
  await fcm?.close();
  await tg?.close();
  account?.cleanup();
});

/** Bot API calls with that outcome, over every method. */
const telegramCalls = (samples: Sample[], outcome: string) =>
  samples.filter((s) => s.name === "telegram_api_calls_total" && s.labels.outcome === outcome).reduce((sum, s) => sum + s.value, 0);

describe("GET /metrics", () => {
  test("counts requests by route pattern and status, never by raw path", async () => {
    const user = "metrics-user-8d1f";
    expect((await postJson(`${t.url}/send_message`, { user_id: user, message: "Здравствуйте" })).status).toBe(200);
    expect((await requestJson(`${t.url}/message_history/${user}?limit=5`)).status).toBe(200);
    expect((await postJson(`${t.url}/send_message`, { message: "без user_id" })).status).toBe(400);
    expect((await requestJson(`${t.url}/api/${user}`)).status).toBe(404);

    const response = await fetch(`${t.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const samples = parseSamples(text);
    expect(sampleValue(samples, "http_requests_total", { method: "POST", route: "/send_message", status: "200" })).toBe(1);
    expect(sampleValue(samples, "http_requests_total", { method: "POST", route: "/send_message", status: "400" })).toBe(1);
    expect(sampleValue(samples, "http_requests_total", { method: "GET", route: "/message_history/:user_id", status: "200" })).toBe(1);
    expect(sampleValue(samples, "http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBe(1);
    expect(sampleValue(samples, "http_request_duration_seconds_count", { method: "POST", route: "/send_message", status: "200" })).toBe(1);
    expect(sampleValue(samples, "http_request_duration_seconds_bucket", { method: "POST", route: "/send_message", status: "200", le: "+Inf" })).toBe(1);
    // No label anywhere carries the user's id, whatever path it came in.
    expect(text).not.toContain(user);
  });

  test("counts Bot API calls by method and outcome: ok, 429, 5xx, refused, network", async () => {
    const before = await scrape(t.url);
    const send = async (text: string, photoUrl?: string) => {
      const answer = await postJson<{ delivery: string }>(`${t.url}/send_message`, { user_id: "metrics-tg", message: text, photo_url: photoUrl });
      expect(answer.status).toBe(200);
    };
    await send("ok");
    tg.failNext(1, { kind: "server-error" }, ["sendMessage"]);
    await send("after a 500");
    tg.failNext(1, { kind: "retry-after", seconds: 1 }, ["sendMessage"]);
    await send("after a 429");
    tg.failNext(1, { kind: "network" }, ["sendMessage"]);
    await send("after a network error");
    // Telegram cannot fetch the photo and refuses it; the text goes out with the link.
    await send("refused photo", "https://cdn.example.invalid/photo.jpg");
    await expect.poll(async () => (await t.app.outbox.stats("telegram")).depth, { timeout: 20_000, interval: 200 }).toBe(0);

    const after = await scrape(t.url);
    for (const outcome of ["ok", "429", "5xx", "network", "refused"]) {
      expect(telegramCalls(after, outcome) - telegramCalls(before, outcome), outcome).toBeGreaterThanOrEqual(1);
    }
    // Every call the stand-in saw was counted once, under its own method.
    const sendMessages = ["ok", "429", "5xx", "refused", "network"].reduce((sum, outcome) => sum + (sampleValue(after, "telegram_api_calls_total", { method: "sendMessage", outcome }) ?? 0), 0);
    expect(sendMessages).toBe(tg.callsTo("sendMessage").length);
    expect(sampleValue(after, "telegram_api_calls_total", { method: "sendPhoto", outcome: "refused" })).toBe(tg.callsTo("sendPhoto").filter((c) => !c.ok).length);
  }, 30_000);

  test("outbox depth and the oldest job's age per lane, read at scrape time", async () => {
    // Enqueued two minutes old but due in an hour, so the push lane (woken by the enqueue) leaves it alone.
    const id = await t.app.db.sql.transaction(async (tx) => {
      const outbox = t.app.outbox.in(tx);
      const jobId = await outbox.enqueue({ lane: "push", kind: "metrics-probe", userId: "metrics-probe", messageId: null, payload: {} }, new Date(Date.now() - 120_000));
      await outbox.reschedule(jobId, new Date(Date.now() + 3_600_000), null, false);
      return jobId;
    });
    try {
      // The push loop would pick it up; it is removed before that matters, the gauges read the table as it is now.
      const samples = await scrape(t.url);
      expect(sampleValue(samples, "outbox_jobs", { lane: "push" })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, "outbox_oldest_job_age_seconds", { lane: "push" })).toBeGreaterThanOrEqual(119);
      expect(sampleValue(samples, "outbox_jobs", { lane: "telegram" })).toBeDefined();
    } finally {
      await t.app.outbox.remove(id);
    }
    const empty = await scrape(t.url);
    expect(sampleValue(empty, "outbox_oldest_job_age_seconds", { lane: "push" })).toBe(0);
  });

  test("counts pushes per token: delivered and invalid", async () => {
    const user = "metrics-push";
    await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "metrics-live-token" });
    await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "metrics-stale-token" });
    fcm.fail("metrics-stale-token", "unregistered");
    const sent = await postJson<{ message_id: number }>(`${t.url}/send_message`, { user_id: user, message: "Алло" });
    const update = tg.updates.groupText({ chatId: GROUP, text: "Слушаю", replyTo: sent.body.message_id });
    const webhook = await fetch(`${t.url}/api/telegram/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET },
      body: JSON.stringify(update),
    });
    expect(webhook.status).toBe(200);
    await expect.poll(async () => sampleValue(await scrape(t.url), "push_sends_total", { outcome: "invalid" }), { timeout: 10_000 }).toBe(1);
    expect(sampleValue(await scrape(t.url), "push_sends_total", { outcome: "delivered" })).toBe(1);
  });

  test("connected sockets, the leader flag and Node's process metrics", async () => {
    const socket = io(t.url, { transports: ["websocket"], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    try {
      const samples = await scrape(t.url);
      expect(sampleValue(samples, "realtime_connected_sockets")).toBe(1);
      expect(sampleValue(samples, "leader")).toBe(1);
      expect(sampleValue(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
      expect(sampleValue(samples, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    } finally {
      socket.close();
    }
    await expect.poll(async () => sampleValue(await scrape(t.url), "realtime_connected_sockets")).toBe(0);
  });
});

describe("GET /metrics of other instances", () => {
  test("needs the key when API_KEY is set; each app counts only its own requests; a second instance on the same database is not the leader", async () => {
    // Same folder, so the same SQLite file: the first app holds the sender lease.
    const guarded = await startTestApp({ env: { API_KEY: "metrics-api-key-1234" }, dir: t.dir });
    try {
      const refused = await requestJson(`${guarded.url}/metrics`);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ success: false });
      const samples = await scrape(guarded.url, { "X-API-Key": "metrics-api-key-1234" });
      expect(sampleValue(samples, "leader")).toBe(0);
      expect((await requestJson<{ leader: boolean }>(`${guarded.url}/health`)).body.leader).toBe(false);
      // The refused scrape is this app's only earlier request; the first app's traffic is not here.
      expect(sampleValue(samples, "http_requests_total", { route: "/metrics", status: "401" })).toBe(1);
      expect(sampleValue(samples, "http_requests_total", { route: "/send_message" })).toBeUndefined();
      expect(sampleValue(await scrape(guarded.url, { Authorization: "Bearer metrics-api-key-1234" }), "http_requests_total", { route: "/metrics", status: "200" })).toBe(1);
    } finally {
      await guarded.close();
    }
  });
});
