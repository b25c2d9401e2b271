// The mobile app's REST API (SPEC §2) over real HTTP with a real SQLite
// database; Telegram is off here (its round trip has its own tests).
import { readdirSync } from "node:fs";
import { get } from "node:http";
import type { Socket } from "node:net";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeGif, makePng, makePngOfSize } from "../fixtures/images.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import type { History, SendAnswer } from "../fixtures/wire.js";
import { startTestApp, testEngine, type TestApp } from "../fixtures/test-app.js";


/** A GET on a connection of its own (no keep-alive pool), as 20 different phones would make it. */
function getOnNewConnection<T>(url: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as T }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

let t: TestApp;
let seq = 0;
const uniqueUser = () => `user-${Date.now()}-${++seq}`;
// Made when the file loads, before any request: building 10 MB (CRC in JS)
// blocks this process's event loop for seconds on a loaded machine. Done
// between requests, it keeps the client from seeing the server close an
// idle keep-alive socket (Node's 5 s keepAliveTimeout), and the next POST
// goes out on that dead socket: ECONNRESET, a failure of the test, not of
// the service.
const tenMegabytePngs = { exact: makePngOfSize(10 * 1024 * 1024), oneMore: makePngOfSize(10 * 1024 * 1024 + 1) };
const storedUploads = () => readdirSync(path.join(t.dir, "uploads")).filter((f) => !f.startsWith("."));

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe("GET /health", () => {
  test("answers ok with the queue depth", async () => {
    const res = await requestJson(`${t.url}/health`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", queue: { depth: expect.any(Number) } });
  });
});

describe("POST /send_message (JSON)", () => {
  test("stores the message and answers in the seed's shape", async () => {
    const user = uniqueUser();
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, user_name: "Иван", message: "Привет *мир* [x](y) <b>" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message_id: null, photo_url: null, photo_count: 0, id: expect.any(Number), delivery: "queued" });
    const history = await requestJson<History>(`${t.url}/message_history/${user}`);
    const stored = history.body.messages.find((m) => m.id === res.body.id);
    expect(stored).toMatchObject({ message: "Привет *мир* [x](y) <b>", direction: "user", photo_url: null, user_id: user });
    expect(stored?.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  test("accepts a numeric user_id and keeps it as text", async () => {
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: 123456789, message: "numeric" });
    expect(res.status).toBe(200);
    const history = await requestJson<History>(`${t.url}/message_history/123456789`);
    expect(history.body.messages.some((m) => m.id === res.body.id && m.user_id === "123456789")).toBe(true);
  });

  test("keeps a photo_url given by link", async () => {
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: uniqueUser(), message: "see", photo_url: "https://example.com/a.jpg" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ photo_url: "https://example.com/a.jpg", photo_count: 1 });
  });

  test.each([
    ["missing user_id", { message: "hi" }, /user_id is required/],
    ["missing message", { user_id: "u" }, /message is required/],
    ["message of the wrong type", { user_id: "u", message: 42 }, /message must be a string/],
    ["user_id of the wrong type", { user_id: { id: 1 }, message: "hi" }, /user_id/],
    ["empty user_id", { user_id: "", message: "hi" }, /user_id/],
    ["user_id with a slash", { user_id: "../x", message: "hi" }, /user_id/],
    ["fractional user_id", { user_id: 1.5, message: "hi" }, /user_id/],
    ["empty message without a photo", { user_id: "u", message: "   " }, /message is required/],
    ["photo_url that is not http(s)", { user_id: "u", message: "x", photo_url: "javascript:alert(1)" }, /photo_url/],
    ["user_name of the wrong type", { user_id: "u", message: "x", user_name: ["a"] }, /user_name/],
    ["a message over the limit", { user_id: "u", message: "я".repeat(16_385) }, /at most 16384/],
  ])("refuses %s with a 400 naming the problem", async (_name, body, reason) => {
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, body);
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error).toMatch(reason);
  });

  test.each([
    ["malformed JSON", '{"user_id": "u", "message": ', 400, /not valid JSON/],
    ["an array", "[1,2]", 400, /JSON object/],
    ["an empty body", "", 400, /empty/],
    ["null", "null", 400, /JSON object/],
  ])("refuses %s", async (_name, raw, status, reason) => {
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
    expect(res.status).toBe(status);
    expect(res.body.error).toMatch(reason);
  });

  test("refuses an unknown content type with 415", async () => {
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    expect(res.status).toBe(415);
    expect(res.body.success).toBe(false);
  });

  test("refuses a JSON body over 256 KB with 413", async () => {
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: "u", message: "x".repeat(300 * 1024) });
    expect(res.status).toBe(413);
  });

  test("wrong method is a JSON 405", async () => {
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`);
    expect(res.status).toBe(405);
    expect(res.body.success).toBe(false);
  });
});

describe("POST /send_message (multipart)", () => {
  test("stores one photo, served back as the same picture with its sniffed type", async () => {
    const png = makePng(8, 8);
    const user = uniqueUser();
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: user, message: "с фото" }, [{ bytes: png, name: "photo.jpg", type: "image/jpeg" }]),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, photo_count: 1, delivery: "queued" });
    expect(res.body.photo_url).toMatch(/^\/uploads\/[A-Za-z0-9_-]{22}\.png$/);
    const file = await fetch(`${t.url}${res.body.photo_url}`);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    // Written anew by the store (metadata gone), the same pixels: PNG is lossless.
    const pixels = (bytes: Buffer) => sharp(bytes).raw().toBuffer();
    expect((await pixels(Buffer.from(await file.arrayBuffer()))).equals(await pixels(png))).toBe(true);
  });

  test("takes ten photos, an empty message with a photo, and lists every photo in history", async () => {
    const user = uniqueUser();
    const photos = Array.from({ length: 10 }, (_, i) => ({ bytes: i % 2 ? makeGif() : makePng(2 + i, 2), name: `p${i}.png` }));
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, message: "" }, photos) });
    expect(res.status).toBe(200);
    expect(res.body.photo_count).toBe(10);
    const history = await requestJson<History>(`${t.url}/message_history/${user}`);
    const item = history.body.messages.find((m) => m.id === res.body.id);
    expect(item?.photo_urls).toHaveLength(10);
    expect(item?.photo_url).toBe(item?.photo_urls[0]);
  });

  test("a photo without any message field is accepted as a photo-only message", async () => {
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: uniqueUser() }, [{ bytes: makePng(), name: "only.png" }]) });
    expect(res.status).toBe(200);
    expect(res.body.photo_count).toBe(1);
    const link = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: uniqueUser(), photo_url: "https://example.com/only.jpg" });
    expect(link.status).toBe(200);
  });

  test("refuses eleven photos and keeps nothing", async () => {
    const before = storedUploads().length;
    const user = uniqueUser();
    const photos = Array.from({ length: 11 }, (_, i) => ({ bytes: makePng(), name: `p${i}.png` }));
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, message: "many" }, photos) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/at most 10 photos/);
    expect(storedUploads().length).toBe(before);
    const history = await requestJson<History>(`${t.url}/message_history/${user}`);
    expect(history.body.messages.filter((m) => m.direction === "user")).toHaveLength(0);
  });

  test("refuses a file that is not an image whatever its name says", async () => {
    const before = storedUploads().length;
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: uniqueUser(), message: "x" }, [{ bytes: Buffer.from("#!/bin/sh\necho not an image\n"), name: "cat.jpg", type: "image/jpeg" }]),
    });
    expect(res.status).toBe(415);
    expect(res.body.error).toMatch(/"cat\.jpg" is not a JPEG, PNG, WebP or GIF/);
    expect(storedUploads().length).toBe(before);
  });

  test("takes a photo of exactly 10 MB and refuses one byte more", async () => {
    const { exact, oneMore } = tenMegabytePngs;
    const ok = await requestJson<SendAnswer>(`${t.url}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: uniqueUser(), message: "big" }, [{ bytes: exact, name: "big.png" }]),
    });
    expect(ok.status).toBe(200);
    const before = storedUploads().length;
    const tooBig = await requestJson<SendAnswer>(`${t.url}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: uniqueUser(), message: "bigger" }, [{ bytes: oneMore, name: "bigger.png" }]),
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toMatch(/larger than 10 MB/);
    expect(storedUploads().length).toBe(before);
  });

  test("refuses a form without user_id, and a broken multipart body", async () => {
    const missing = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", body: photoForm({ message: "x" }, [{ bytes: makePng(), name: "a.png" }]) });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/user_id is required/);
    const broken = await requestJson<SendAnswer>(`${t.url}/send_message`, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=XYZ" },
      body: "--XYZ\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\nu1\r\n--XY",
    });
    expect(broken.status).toBe(400);
    const noBoundary = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", headers: { "content-type": "multipart/form-data" }, body: "x" });
    expect(noBoundary.status).toBe(400);
  });
});

describe("POST /register_device and GET /check_device", () => {
  test("registers, re-registers without duplicates, and reports devices", async () => {
    const user = uniqueUser();
    const first = await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "token-a", platform: "android", device_id: "phone-1" });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ success: true, message: "Устройство зарегистрировано успешно", device_count: 1 });
    expect((await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "token-a", platform: "android" })).body.device_count).toBe(1);
    // The same phone with a new token replaces its old one.
    expect((await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "token-b", device_id: "phone-1" })).body.device_count).toBe(1);
    expect((await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "token-c", platform: "ios", device_id: "tablet" })).body.device_count).toBe(2);
    expect(await t.app.devices.tokensOf(user)).toEqual(["token-b", "token-c"]);
    const check = await requestJson(`${t.url}/check_device/${user}`);
    expect(check.body).toEqual({ user_id: user, registered: true, device_count: 2, has_tokens: true });
    const none = await requestJson(`${t.url}/check_device/${uniqueUser()}`);
    expect(none.body).toMatchObject({ registered: false, device_count: 0, has_tokens: false });
  });

  test("a token moves with its phone to another account", async () => {
    const a = uniqueUser();
    const b = uniqueUser();
    await postJson(`${t.url}/register_device`, { user_id: a, fcm_token: "shared-token" });
    await postJson(`${t.url}/register_device`, { user_id: b, fcm_token: "shared-token" });
    expect((await requestJson(`${t.url}/check_device/${a}`)).body.device_count).toBe(0);
    expect((await requestJson(`${t.url}/check_device/${b}`)).body.device_count).toBe(1);
  });

  test.each([
    ["missing fcm_token", { user_id: "u" }, /fcm_token is required/],
    ["empty fcm_token", { user_id: "u", fcm_token: "  " }, /fcm_token/],
    ["fcm_token of the wrong type", { user_id: "u", fcm_token: 5 }, /fcm_token must be a string/],
    ["missing user_id", { fcm_token: "t" }, /user_id is required/],
    ["platform of the wrong type", { user_id: "u", fcm_token: "t", platform: 1 }, /platform/],
  ])("refuses %s", async (_name, body, reason) => {
    const res = await postJson(`${t.url}/register_device`, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: expect.stringMatching(reason) });
  });

  test("a path without a user id is a JSON 400", async () => {
    const res = await requestJson(`${t.url}/check_device/`);
    expect(res.status).toBe(400);
  });
});

describe("GET /message_history", () => {
  test("greets once a day, by name, and clamps limit", async () => {
    const user = uniqueUser();
    for (let i = 0; i < 5; i++) await postJson(`${t.url}/send_message`, { user_id: user, message: `m${i}` });
    const first = await requestJson<History>(`${t.url}/message_history/${user}?user_name=${encodeURIComponent("Анна")}`);
    expect(first.status).toBe(200);
    expect(first.body.greeting_sent).toBe(true);
    expect(first.body.messages.at(-1)).toMatchObject({ message: "Здравствуйте, Анна!", direction: "support" });
    const second = await requestJson<History>(`${t.url}/message_history/${user}?user_name=Анна`);
    expect(second.body.greeting_sent).toBe(false);
    expect(second.body.messages.filter((m) => m.message.startsWith("Здравствуйте"))).toHaveLength(1);
    // Oldest first, newest `limit`.
    const two = await requestJson<History>(`${t.url}/message_history/${user}?limit=2`);
    expect(two.body.messages.map((m) => m.message)).toEqual(["m4", "Здравствуйте, Анна!"]);
    expect((await requestJson<History>(`${t.url}/message_history/${user}?limit=0`)).body.messages).toHaveLength(1);
    expect((await requestJson<History>(`${t.url}/message_history/${user}?limit=-5`)).body.messages).toHaveLength(1);
    expect((await requestJson<History>(`${t.url}/message_history/${user}?limit=abc`)).body.messages).toHaveLength(6);
    expect((await requestJson<History>(`${t.url}/message_history/${user}?limit=100000`)).body.messages).toHaveLength(6);
  });

  test("greets without a name as «Здравствуйте!»", async () => {
    const res = await requestJson<History>(`${t.url}/message_history/${uniqueUser()}`);
    expect(res.body.messages).toEqual([expect.objectContaining({ message: "Здравствуйте!", direction: "support" })]);
  });

  // TEST_ENGINE=cluster: t is two instances already, and behind nginx's
  // keep-alive pool 20 clients are not 20 connections to the instances.
  test.skipIf(testEngine === "cluster")("20 concurrent first requests, on 20 connections to two instances sharing the database, add exactly one greeting", async () => {
    // Two instances (SPEC §8) each keep their own "greeted today" memory,
    // so only the database's claim can make the greeting single.
    const other = await startTestApp({ dir: t.dir });
    const connections = new Set<string>();
    // A connection is its pair of ports: the kernel may give connections to
    // the two instances the same client port.
    const count = (socket: Socket) => connections.add(`${socket.localPort ?? ""}:${socket.remotePort ?? ""}`);
    t.app.server.on("connection", count);
    other.app.server.on("connection", count);
    try {
      const user = uniqueUser();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => getOnNewConnection<History>(`${i % 2 === 0 ? t.url : other.url}/message_history/${user}?user_name=Олег`)));
      expect(connections.size).toBe(20);
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(answers.filter((a) => a.body.greeting_sent)).toHaveLength(1);
      const history = await requestJson<History>(`${t.url}/message_history/${user}`);
      expect(history.body.messages.filter((m) => m.message === "Здравствуйте, Олег!")).toHaveLength(1);
      const greetingsInDb = await t.app.db.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE user_id = ? AND direction = 'support'", [user]);
      expect(greetingsInDb?.n).toBe(1);
    } finally {
      t.app.server.off("connection", count);
      await other.app.close();
    }
  });

  test("limit over 200 returns the newest 200", async () => {
    const user = uniqueUser();
    await t.app.db.sql.transaction(async (tx) => {
      for (let i = 0; i < 250; i++) await tx.run("INSERT INTO messages (user_id, message, direction, created_at) VALUES (?, ?, 'user', ?)", [user, `n${i}`, new Date()]);
    });
    const res = await requestJson<History>(`${t.url}/message_history/${user}?limit=500`);
    expect(res.body.messages).toHaveLength(200);
    expect(res.body.messages[0]?.message).toBe("n51");
  });
});

describe("GET /uploads", () => {
  // nginx decodes %2F itself and refuses a path above the root with its own
  // 400, before any instance sees it (the test below).
  const beyondRoot = "/uploads/..%2F..%2Fetc%2Fpasswd";
  test.runIf(testEngine === "cluster")(`${beyondRoot} is refused by nginx in front of the cluster`, async () => {
    const res = await fetch(`${t.url}${beyondRoot}`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("root:");
  });

  test.each([
    ...(testEngine === "cluster" ? [] : [beyondRoot]),
    "/uploads/../../etc/passwd",
    "/uploads/%2e%2e/test.db",
    "/uploads/.incoming",
    "/uploads/nothing-here.png",
    "/uploads/a/b",
  ])("%s is a JSON 404", async (p) => {
    const res = await requestJson(`${t.url}${p}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false });
  });
});

describe("paths that are not there", () => {
  test.each(["/api/nothing", "/api/telegram/nope", "/api"])("%s is a JSON 404, not a page", async (p) => {
    const res = await requestJson(`${t.url}${p}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false });
  });

  test("the webhook says why it is off when there is no bot", async () => {
    const res = await postJson(`${t.url}/api/telegram/webhook`, { update_id: 1 });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ ok: false, error: expect.stringMatching(/BOT_TOKEN is not set/) });
  });
});
