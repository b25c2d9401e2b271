// Inbound rate limits on the mobile REST API (issue 4): per user_id and per
// client address, answered 429 with Retry-After, and checked before a
// form's photos are stored.
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makePng } from "../fixtures/images.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import { startTestApp, testEngine, type TestApp } from "../fixtures/test-app.js";

const PLENTY = { points: 10_000, windowSeconds: 60 };

describe("per user", () => {
  let t: TestApp;
  let seq = 0;
  const user = () => `limited-${Date.now()}-${++seq}`;

  beforeAll(async () => {
    t = await startTestApp({
      rateLimits: {
        perUser: { send: { points: 3, windowSeconds: 60, burstPoints: 2, burstWindowSeconds: 600 }, read: { points: 4, windowSeconds: 60 }, register: { points: 2, windowSeconds: 60 } },
        perIp: { send: PLENTY, read: PLENTY, register: PLENTY, uploads: PLENTY },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  test("/send_message: the window plus the burst, then 429 with Retry-After; other users are not affected", async () => {
    const u = user();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postJson(`${t.url}/send_message`, { user_id: u, message: `m${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const refused = await postJson(`${t.url}/send_message`, { user_id: u, message: "one too many" });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ success: false, error: expect.stringMatching(/too many requests/) });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The refused message was not stored.
    const history = await requestJson<{ messages: { message: string }[] }>(`${t.url}/message_history/${u}`);
    expect(history.body.messages.map((m) => m.message)).not.toContain("one too many");
    expect((await postJson(`${t.url}/send_message`, { user_id: user(), message: "someone else" })).status).toBe(200);
  });

  test("a form over the limit is refused before its photos are stored", async () => {
    const u = user();
    for (let i = 0; i < 5; i++) await postJson(`${t.url}/send_message`, { user_id: u, message: `m${i}` });
    const stored = () => readdirSync(path.join(t.dir, "uploads")).filter((f) => !f.startsWith("."));
    const incoming = () => readdirSync(path.join(t.dir, "uploads", ".incoming"));
    const before = stored().length;
    const res = await requestJson(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: u, message: "with photo" }, [{ bytes: makePng(), name: "a.png" }]) });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(stored().length).toBe(before);
    expect(incoming()).toEqual([]);
  });

  test("history, check_device and register_device have their own per-user limits", async () => {
    const u = user();
    const reads = [];
    for (let i = 0; i < 4; i++) reads.push((await requestJson(i % 2 ? `${t.url}/check_device/${u}` : `${t.url}/message_history/${u}`)).status);
    expect(reads).toEqual([200, 200, 200, 200]);
    const refused = await requestJson(`${t.url}/message_history/${u}`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    // Reading does not spend the sending budget.
    expect((await postJson(`${t.url}/send_message`, { user_id: u, message: "still allowed" })).status).toBe(200);
    expect((await postJson(`${t.url}/register_device`, { user_id: u, fcm_token: "t1" })).status).toBe(200);
    expect((await postJson(`${t.url}/register_device`, { user_id: u, fcm_token: "t2" })).status).toBe(200);
    expect((await postJson(`${t.url}/register_device`, { user_id: u, fcm_token: "t3" })).status).toBe(429);
  });
});

describe("per client address", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      rateLimits: {
        perUser: { send: PLENTY, read: PLENTY, register: PLENTY },
        perIp: { send: { points: 4, windowSeconds: 60 }, read: { points: 3, windowSeconds: 60 }, register: PLENTY, uploads: { points: 2, windowSeconds: 60 } },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  test("many users behind one address share its limit; bad requests count too; /health is never limited", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await postJson(`${t.url}/send_message`, { user_id: `ip-user-${i}`, message: "hi" })).status);
    statuses.push((await postJson(`${t.url}/send_message`, { message: "no user" })).status);
    expect(statuses).toEqual([200, 200, 200, 400]);
    const refused = await postJson(`${t.url}/send_message`, { user_id: "ip-user-9", message: "hi" });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ success: false, error: expect.stringMatching(/this address/) });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 3; i++) expect((await requestJson(`${t.url}/message_history/reader-${i}`)).status).toBe(200);
    expect((await requestJson(`${t.url}/check_device/reader-9`)).status).toBe(429);
    for (let i = 0; i < 10; i++) expect((await requestJson(`${t.url}/health`)).status).toBe(200);
  });

  test("photo downloads have their own, separate limit", async () => {
    expect((await requestJson(`${t.url}/uploads/AAAAAAAAAAAAAAAAAAAAAA.png`)).status).toBe(404);
    expect((await requestJson(`${t.url}/uploads/AAAAAAAAAAAAAAAAAAAAAA.png`)).status).toBe(404);
    const refused = await requestJson(`${t.url}/uploads/AAAAAAAAAAAAAAAAAAAAAA.png`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  test("X-Forwarded-For is ignored unless the service is told it sits behind a proxy", async () => {
    const spoofed = await postJson(`${t.url}/send_message`, { user_id: "spoof", message: "hi" }, { "X-Forwarded-For": "203.0.113.7" });
    expect(spoofed.status).toBe(429);
    // TEST_ENGINE=cluster: nginx is the proxy, and adds the address it saw
    // (loopback, for every request of this test) as the last hop.
    if (testEngine === "cluster") return;
    const proxied = await startTestApp({ env: { TRUST_PROXY: "true", RATE_LIMIT_SEND_PER_IP: "1/60" } });
    try {
      const send = (ip: string) => postJson(`${proxied.url}/send_message`, { user_id: `via-${ip}`, message: "hi" }, { "X-Forwarded-For": `198.51.100.1, ${ip}` });
      expect((await send("203.0.113.7")).status).toBe(200);
      expect((await send("203.0.113.7")).status).toBe(429);
      expect((await send("203.0.113.8")).status).toBe(200);
    } finally {
      await proxied.close();
    }
  });
});
