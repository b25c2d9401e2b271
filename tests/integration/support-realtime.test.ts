// Socket.IO on the service's own HTTP server (SPEC §3), with a real
// socket.io-client: join/leave, new_message in the history item's shape,
// errors for bad events, and API_KEY on the handshake. The client keeps its
// default transports (long-polling, then WebSocket), as the apps do.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson, requestJson } from "../fixtures/http.js";
import type { ChatItem as Wire } from "../fixtures/wire.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import { connectSocket as connect, nextEvent as next } from "../fixtures/socket.js";

describe("without API_KEY", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  test("a REST message reaches the joined socket in the shape of a history item", async () => {
    const socket = await connect(t.url);
    try {
      const joined = next<{ user_id: string }>(socket, "joined");
      socket.emit("join_chat", { user_id: "rt-1" });
      expect(await joined).toEqual({ user_id: "rt-1" });
      const arriving = next<Wire>(socket, "new_message");
      const sent = await postJson<{ id: number }>(`${t.url}/send_message`, { user_id: "rt-1", message: "живой" });
      const event = await arriving;
      const history = await requestJson<{ messages: Wire[] }>(`${t.url}/message_history/rt-1`);
      const item = history.body.messages.find((m) => m.id === sent.body.id);
      expect(event).toEqual(item);
      expect(event).toMatchObject({ id: sent.body.id, user_id: "rt-1", message: "живой", direction: "user", photo_url: null });
    } finally {
      socket.close();
    }
  });

  test("the greeting is emitted too, and other users' messages are not", async () => {
    const socket = await connect(t.url);
    try {
      socket.emit("join_chat", { user_id: 42 });
      expect(await next(socket, "joined")).toEqual({ user_id: "42" });
      const events: Wire[] = [];
      socket.on("new_message", (m: Wire) => events.push(m));
      await postJson(`${t.url}/send_message`, { user_id: "someone-else", message: "не тебе" });
      await requestJson(`${t.url}/message_history/42?user_name=Ира`);
      await expect.poll(() => events.length).toBe(1);
      expect(events[0]).toMatchObject({ user_id: "42", message: "Здравствуйте, Ира!", direction: "support" });
    } finally {
      socket.close();
    }
  });

  test("after leave_chat the socket gets nothing more", async () => {
    const socket = await connect(t.url);
    try {
      socket.emit("join_chat", { user_id: "rt-leave" });
      await next(socket, "joined");
      socket.emit("leave_chat", { user_id: "rt-leave" });
      await next(socket, "left");
      const events: Wire[] = [];
      socket.on("new_message", (m: Wire) => events.push(m));
      await postJson(`${t.url}/send_message`, { user_id: "rt-leave", message: "после ухода" });
      await new Promise((r) => setTimeout(r, 150));
      expect(events).toEqual([]);
    } finally {
      socket.close();
    }
  });

  test.each([
    ["no payload", undefined],
    ["no user_id", {}],
    ["an object user_id", { user_id: { a: 1 } }],
    ["an empty user_id", { user_id: "" }],
    ["a string payload", "user-1"],
  ])("join_chat with %s answers error", async (_name, payload) => {
    const socket = await connect(t.url);
    try {
      const error = next<{ message: string }>(socket, "error");
      socket.emit("join_chat", payload);
      expect((await error).message).toMatch(/user_id/);
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
  });
});

describe("with API_KEY", () => {
  let t: TestApp;
  const key = "k3y-for-tests-0123456789";
  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY: key } });
  });
  afterAll(async () => {
    await t.close();
  });

  test("the handshake without the key is refused, with it (auth or query) accepted", async () => {
    await expect(connect(t.url)).rejects.toThrow(/unauthorized/);
    await expect(connect(t.url, { auth: { token: "wrong" } })).rejects.toThrow(/unauthorized/);
    (await connect(t.url, { auth: { token: key } })).close();
    (await connect(t.url, { query: { api_key: key } })).close();
  });

  test("REST routes need the key, /health and /uploads do not", async () => {
    const body = { user_id: "k", message: "hi" };
    const missing = await postJson(`${t.url}/send_message`, body);
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ success: false, error: expect.stringMatching(/API key/) });
    expect((await postJson(`${t.url}/send_message`, body, { "X-API-Key": "nope" })).status).toBe(401);
    expect((await postJson(`${t.url}/send_message`, body, { "X-API-Key": key })).status).toBe(200);
    expect((await postJson(`${t.url}/send_message`, body, { Authorization: `Bearer ${key}` })).status).toBe(200);
    expect((await requestJson(`${t.url}/message_history/k`)).status).toBe(401);
    expect((await requestJson(`${t.url}/check_device/k`)).status).toBe(401);
    expect((await postJson(`${t.url}/register_device`, { user_id: "k", fcm_token: "t" })).status).toBe(401);
    expect((await requestJson(`${t.url}/health`)).status).toBe(200);
    expect((await requestJson(`${t.url}/uploads/unknown.png`)).status).toBe(404);
  });
});
