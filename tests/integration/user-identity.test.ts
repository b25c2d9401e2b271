// USER_HASH_SECRET (SPEC §2): every mobile request that names a user, and
// the socket's join_chat, must carry user_hash = hex HMAC-SHA256(secret,
// user_id), computed here the way the app's backend would. Missing or wrong
// is 401 (or a socket `error`) and nothing is stored; without the variable
// user ids are taken on trust.
import { createHmac } from "node:crypto";
import { watch, readdirSync, type FSWatcher } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makePng, makePngOfSize } from "../fixtures/images.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import { connectSocket, joinAnswer } from "../fixtures/socket.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

const SECRET = "identity-secret-for-tests-0123456789";
const hashOf = (userId: string) => createHmac("sha256", SECRET).update(userId).digest("hex");

let seq = 0;
const newUser = () => `id-user-${Date.now()}-${++seq}`;

interface HistoryAnswer {
  success: boolean;
  messages: { message: string; direction: string }[];
  greeting_sent: boolean;
}

describe("with USER_HASH_SECRET", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { USER_HASH_SECRET: SECRET } });
  });
  afterAll(async () => {
    await t.close();
  });

  const history = (user: string) => requestJson<HistoryAnswer>(`${t.url}/message_history/${user}`, { headers: { "X-User-Hash": hashOf(user) } });

  test("POST /send_message (JSON): missing or wrong user_hash is 401 and nothing is stored; field, query and header are accepted", async () => {
    const user = newUser();
    const missing = await postJson(`${t.url}/send_message`, { user_id: user, message: "без подписи" });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ success: false, error: expect.stringMatching(/user_hash is required/) });
    const wrong = await postJson(`${t.url}/send_message`, { user_id: user, message: "чужая подпись", user_hash: hashOf(`${user}-other`) });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ success: false, error: expect.stringMatching(/user_hash does not match/) });
    const garbage = await postJson(`${t.url}/send_message`, { user_id: user, message: "мусор", user_hash: "not-hex" });
    expect(garbage.status).toBe(401);
    expect((await postJson(`${t.url}/send_message`, { user_id: user, message: "не тот заголовок" }, { "X-User-Hash": "0".repeat(64) })).status).toBe(401);

    expect((await postJson(`${t.url}/send_message`, { user_id: user, message: "поле", user_hash: hashOf(user) })).status).toBe(200);
    expect((await postJson(`${t.url}/send_message?user_hash=${hashOf(user)}`, { user_id: user, message: "запрос" })).status).toBe(200);
    expect((await postJson(`${t.url}/send_message`, { user_id: user, message: "заголовок" }, { "X-User-Hash": hashOf(user) })).status).toBe(200);

    const stored = (await history(user)).body.messages.filter((m) => m.direction === "user").map((m) => m.message);
    expect(stored).toEqual(["поле", "запрос", "заголовок"]);
  });

  test("POST /register_device: refused without the right hash, and no device is added", async () => {
    const user = newUser();
    const device = { user_id: user, fcm_token: "token-identity-1", platform: "android" };
    expect((await postJson(`${t.url}/register_device`, device)).status).toBe(401);
    expect((await postJson(`${t.url}/register_device`, { ...device, user_hash: hashOf("someone") })).status).toBe(401);
    const status = await requestJson(`${t.url}/check_device/${user}?user_hash=${hashOf(user)}`);
    expect(status.body).toMatchObject({ registered: false, device_count: 0 });
    const ok = await postJson(`${t.url}/register_device`, { ...device, user_hash: hashOf(user) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ success: true, device_count: 1 });
    expect((await postJson(`${t.url}/register_device`, { ...device, fcm_token: "token-identity-2" }, { "X-User-Hash": hashOf(user) })).body).toMatchObject({ device_count: 2 });
  });

  test("GET /message_history: nobody else reads a user's history or makes the greeting say anything", async () => {
    const user = newUser();
    const forged = await requestJson(`${t.url}/message_history/${user}?user_name=${encodeURIComponent("Ваш аккаунт заблокирован, позвоните")}`);
    expect(forged.status).toBe(401);
    expect(forged.body).toEqual({ success: false, error: expect.stringMatching(/user_hash/) });
    expect((await requestJson(`${t.url}/message_history/${user}?user_hash=${hashOf(`${user}x`)}`)).status).toBe(401);
    // The refused requests added no greeting: the first proven one does.
    const first = await requestJson<HistoryAnswer>(`${t.url}/message_history/${user}?user_name=Ира&user_hash=${hashOf(user)}`);
    expect(first.status).toBe(200);
    expect(first.body.greeting_sent).toBe(true);
    expect(first.body.messages.map((m) => m.message)).toEqual(["Здравствуйте, Ира!"]);
    expect((await history(user)).body).toMatchObject({ success: true, greeting_sent: false });
  });

  test("GET /check_device: 401 without or with a wrong hash; query and header are accepted", async () => {
    const user = newUser();
    expect((await requestJson(`${t.url}/check_device/${user}`)).status).toBe(401);
    expect((await requestJson(`${t.url}/check_device/${user}`, { headers: { "X-User-Hash": hashOf("other") } })).status).toBe(401);
    expect((await requestJson(`${t.url}/check_device/${user}?user_hash=${hashOf(user)}`)).body).toEqual({ user_id: user, registered: false, device_count: 0, has_tokens: false });
    expect((await requestJson(`${t.url}/check_device/${user}`, { headers: { "X-User-Hash": hashOf(user) } })).status).toBe(200);
  });

  test("POST /send_message (multipart): user_hash as a form field or header", async () => {
    const user = newUser();
    const asField = await requestJson(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, user_hash: hashOf(user), message: "фото" }, [{ bytes: makePng(), name: "a.png" }]) });
    expect(asField.status).toBe(200);
    expect(asField.body).toMatchObject({ success: true, photo_count: 1 });
    const asHeader = await requestJson(`${t.url}/send_message`, { method: "POST", headers: { "X-User-Hash": hashOf(user) }, body: photoForm({ user_id: user, message: "фото 2" }, [{ bytes: makePng(), name: "b.png" }]) });
    expect(asHeader.status).toBe(200);
    const textOnly = await requestJson(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, message: "без фото" }) });
    expect(textOnly.status).toBe(401);
  });

  test("join_chat: refused without or with a wrong user_hash, joined with the right one (default transports)", async () => {
    const user = newUser();
    const socket = await connectSocket(t.url);
    try {
      const events: unknown[] = [];
      socket.on("new_message", (m: unknown) => events.push(m));
      const missing = await joinAnswer(socket, { user_id: user });
      expect(missing).toEqual({ event: "error", payload: { message: expect.stringMatching(/^join_chat: user_hash is required/) } });
      const wrong = await joinAnswer(socket, { user_id: user, user_hash: hashOf("intruder") });
      expect(wrong).toEqual({ event: "error", payload: { message: "join_chat: user_hash does not match user_id" } });
      expect((await joinAnswer(socket, { user_id: user, user_hash: 12345 })).event).toBe("error");
      // Not joined: the user's messages do not reach this socket.
      await postJson(`${t.url}/send_message`, { user_id: user, message: "не для чужих", user_hash: hashOf(user) });
      await new Promise((r) => setTimeout(r, 200));
      expect(events).toEqual([]);
      expect(socket.connected).toBe(true);

      expect(await joinAnswer(socket, { user_id: user, user_hash: hashOf(user) })).toEqual({ event: "joined", payload: { user_id: user } });
      await postJson(`${t.url}/send_message`, { user_id: user, message: "своим", user_hash: hashOf(user) });
      await expect.poll(() => events.length).toBe(1);
      expect(events[0]).toMatchObject({ user_id: user, message: "своим", direction: "user" });
    } finally {
      socket.close();
    }
  });

  test("read state (POST /mark_read, GET /unread_count, socket mark_read): nobody else reads or clears a user's badge", async () => {
    const user = newUser();
    await history(user); // the greeting: a support message to read
    const greeting = (await history(user)).body.messages.at(-1) as unknown as { id: number };
    const mark = (extra: Record<string, unknown>, headers: Record<string, string> = {}) =>
      postJson(`${t.url}/mark_read`, { user_id: user, up_to_id: greeting.id, ...extra }, headers);
    expect((await mark({})).status).toBe(401);
    expect((await mark({ user_hash: hashOf("intruder") })).status).toBe(401);
    expect((await requestJson(`${t.url}/unread_count/${user}`)).status).toBe(401);
    expect((await requestJson(`${t.url}/unread_count/${user}?user_hash=${hashOf("intruder")}`)).status).toBe(401);

    expect((await mark({ user_hash: hashOf(user) })).body).toEqual({ success: true, unread: 0 });
    expect((await mark({}, { "X-User-Hash": hashOf(user) })).status).toBe(200);
    expect((await requestJson(`${t.url}/unread_count/${user}`, { headers: { "X-User-Hash": hashOf(user) } })).body).toEqual({ user_id: user, unread: 0 });

    const socket = await connectSocket(t.url);
    try {
      const ack = (payload: Record<string, unknown>) => socket.timeout(3000).emitWithAck("mark_read", payload) as Promise<Record<string, unknown>>;
      expect(await ack({ user_id: user, up_to_id: greeting.id })).toEqual({ success: false, error: expect.stringMatching(/user_hash is required/) });
      expect(await ack({ user_id: user, up_to_id: greeting.id, user_hash: hashOf("intruder") })).toEqual({ success: false, error: "user_hash does not match user_id" });
      expect(await ack({ user_id: user, up_to_id: greeting.id, user_hash: hashOf(user) })).toEqual({ success: true, unread: 0 });
    } finally {
      socket.close();
    }
  });

  test("join_chat over WebSocket only: the same check", async () => {
    const user = newUser();
    const socket = await connectSocket(t.url, { transports: ["websocket"] });
    try {
      expect((await joinAnswer(socket, { user_id: user })).event).toBe("error");
      expect(await joinAnswer(socket, { user_id: user, user_hash: hashOf(user) })).toEqual({ event: "joined", payload: { user_id: user } });
    } finally {
      socket.close();
    }
  });
});

describe("with USER_HASH_SECRET, a refused form never puts a photo on disk", () => {
  let t: TestApp;
  let watcher: FSWatcher;
  const written: string[] = [];
  let uploads: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { USER_HASH_SECRET: SECRET } });
    uploads = path.join(t.dir, "uploads");
    // Every file created anywhere under uploads/, even one removed at once.
    watcher = watch(uploads, { recursive: true }, (_event, name) => {
      if (name) written.push(name);
    });
  });
  afterAll(async () => {
    watcher.close();
    await t.close();
  });

  test("missing hash, wrong hash, and user_id after the photo: refused before any photo is received", async () => {
    const user = newUser();
    const png = makePng();
    const send = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      requestJson(`${t.url}/send_message`, { method: "POST", headers, body: photoForm(fields, [{ bytes: png, name: "a.png" }, { bytes: png, name: "b.png" }]) });

    const missing = await send({ user_id: user, message: "нет подписи" });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ success: false, error: expect.stringMatching(/user_hash is required/) });
    expect((await send({ user_id: user, user_hash: hashOf("x"), message: "чужая" })).status).toBe(401);
    expect((await send({ user_id: user, message: "чужой заголовок" }, { "X-User-Hash": hashOf("x") })).status).toBe(401);

    // A form whose user_id comes after a photo (one large enough that the
    // field has not arrived when the photo starts) cannot be checked in time.
    const late = new FormData();
    late.append("message", "поздно");
    late.append("photo", new Blob([new Uint8Array(makePngOfSize(2 * 1024 * 1024))]), "a.png");
    late.append("user_id", user);
    late.append("user_hash", hashOf(user));
    const lateAnswer = await requestJson(`${t.url}/send_message`, { method: "POST", body: late });
    expect(lateAnswer.status).toBe(400);
    expect(lateAnswer.body).toEqual({ success: false, error: expect.stringMatching(/user_id must come before the photos/) });

    await new Promise((r) => setTimeout(r, 100)); // let the watcher report
    expect(written).toEqual([]);
    expect(readdirSync(uploads).filter((f) => !f.startsWith("."))).toEqual([]);
    expect(readdirSync(path.join(uploads, ".incoming"))).toEqual([]);
    const stored = await requestJson<HistoryAnswer>(`${t.url}/message_history/${user}?user_hash=${hashOf(user)}`);
    expect(stored.body.messages.filter((m) => m.direction === "user")).toEqual([]);

    // The watcher sees a photo that is accepted: it would have seen one refused late.
    expect((await send({ user_id: user, user_hash: hashOf(user), message: "верно" })).status).toBe(200);
    await expect.poll(() => written.length).toBeGreaterThan(0);
  });
});

describe("without USER_HASH_SECRET", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  test("user ids are taken on trust, on every route and on join_chat", async () => {
    const user = newUser();
    expect((await postJson(`${t.url}/send_message`, { user_id: user, message: "привет" })).status).toBe(200);
    expect((await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "trust-token" })).status).toBe(200);
    expect((await requestJson(`${t.url}/message_history/${user}`)).status).toBe(200);
    expect((await requestJson(`${t.url}/check_device/${user}`)).status).toBe(200);
    expect((await requestJson(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, message: "фото" }, [{ bytes: makePng(), name: "a.png" }]) })).status).toBe(200);
    const socket = await connectSocket(t.url);
    try {
      expect(await joinAnswer(socket, { user_id: user })).toEqual({ event: "joined", payload: { user_id: user } });
    } finally {
      socket.close();
    }
  });
});
