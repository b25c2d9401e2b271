// Rate limits an operator sets (SPEC §1, §2): RATE_LIMIT_* variables in
// the environment, RATE_LIMITS=off, and 429 with Retry-After on every path:
// mobile REST, tRPC (in tRPC's own error shape, for every link), the diary's
// REST notes, and the socket's join_chat (an `error` event).
import { createTRPCClient, httpBatchLink, httpBatchStreamLink, httpLink, TRPCClientError } from "@trpc/client";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { Socket } from "socket.io-client";
import type { AppRouter } from "../../server/api/root.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { connectSocket, joinAnswer } from "../fixtures/socket.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import { BOT_TOKEN, initDataFor, makeUser } from "./diary-setup.js";

type TelegramUser = ReturnType<typeof makeUser>;

let seq = 0;
const newUser = () => `rl-user-${Date.now()}-${++seq}`;

function expectRetryAfter(headers: Headers, atMostSeconds = 60): void {
  const value = headers.get("retry-after");
  expect(value).toMatch(/^\d+$/);
  expect(Number(value)).toBeGreaterThanOrEqual(1);
  expect(Number(value)).toBeLessThanOrEqual(atMostSeconds);
}

const tma = (user: TelegramUser) => ({ authorization: `tma ${initDataFor(user)}` });

function trpcClient(url: string, link: typeof httpLink | typeof httpBatchLink | typeof httpBatchStreamLink, headers: Record<string, string>) {
  return createTRPCClient<AppRouter>({ links: [link({ url: `${url}/api/trpc`, headers })] });
}

async function trpcErrorOf(call: Promise<unknown>): Promise<{ code?: string; httpStatus?: number; message: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const data = error.data as { code?: string; httpStatus?: number } | undefined;
    return { code: data?.code, httpStatus: data?.httpStatus, message: error.message };
  }
  throw new Error("expected the call to be refused");
}

interface TrpcErrorBody {
  error: { message: string; code: number; data: { code: string; httpStatus: number; path: string } };
}

describe("mobile REST limits from the environment", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_SEND_PER_USER: "2/60", RATE_LIMIT_SEND_BURST_PER_USER: "off", RATE_LIMIT_READ_PER_IP: "3/30", RATE_LIMIT_UPLOADS_PER_IP: "off" } });
  });
  afterAll(async () => {
    await t.close();
  });

  test("RATE_LIMIT_SEND_PER_USER and its burst: the third message is 429 with Retry-After", async () => {
    const user = newUser();
    expect((await postJson(`${t.url}/send_message`, { user_id: user, message: "1" })).status).toBe(200);
    expect((await postJson(`${t.url}/send_message`, { user_id: user, message: "2" })).status).toBe(200);
    const refused = await postJson(`${t.url}/send_message`, { user_id: user, message: "3" });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ success: false, error: expect.stringMatching(/too many requests for this user/) });
    expectRetryAfter(refused.headers);
  });

  test("RATE_LIMIT_READ_PER_IP in its window, RATE_LIMIT_UPLOADS_PER_IP=off", async () => {
    for (let i = 0; i < 3; i++) expect((await requestJson(`${t.url}/message_history/${newUser()}`)).status).toBe(200);
    const refused = await requestJson(`${t.url}/check_device/${newUser()}`);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ success: false, error: expect.stringMatching(/this address/) });
    expectRetryAfter(refused.headers, 30);
    // The default would allow 1200; off allows any number.
    for (let i = 0; i < 5; i++) expect((await requestJson(`${t.url}/uploads/AAAAAAAAAAAAAAAAAAAAAA.png`)).status).toBe(404);
  });
});

describe("tRPC per client address", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { BOT_TOKEN, RATE_LIMIT_DIARY_PER_IP: "3/60" } });
  });
  afterAll(async () => {
    await t.close();
  });

  test("over the limit every link gets TOO_MANY_REQUESTS, the body is not read, and the answer carries Retry-After", async () => {
    const user = makeUser();
    const plain = trpcClient(t.url, httpLink, tma(user));
    expect(await plain.notes.list.query()).toEqual([]);
    expect(await trpcClient(t.url, httpBatchLink, tma(user)).session.me.query()).toMatchObject({ user: { id: user.id } });
    expect(await trpcClient(t.url, httpBatchStreamLink, tma(user)).notes.list.query()).toEqual([]);

    for (const link of [httpLink, httpBatchLink, httpBatchStreamLink]) {
      const refused = await trpcErrorOf(trpcClient(t.url, link, tma(user)).notes.list.query());
      expect(refused).toMatchObject({ code: "TOO_MANY_REQUESTS", message: expect.stringMatching(/too many requests from this address/) });
    }

    const single = await requestJson<TrpcErrorBody>(`${t.url}/api/trpc/notes.list`, { headers: tma(user) });
    expect(single.status).toBe(429);
    expectRetryAfter(single.headers);
    expect(single.body).toEqual({ error: { message: expect.stringMatching(/too many requests/), code: -32029, data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, path: "notes.list" } } });

    const batch = await requestJson<TrpcErrorBody[]>(`${t.url}/api/trpc/notes.list,session.me?batch=1&input=${encodeURIComponent("{}")}`, { headers: tma(user) });
    expect(batch.status).toBe(429);
    expectRetryAfter(batch.headers);
    expect(batch.body.map((item) => item.error.data)).toEqual([
      { code: "TOO_MANY_REQUESTS", httpStatus: 429, path: "notes.list" },
      { code: "TOO_MANY_REQUESTS", httpStatus: 429, path: "session.me" },
    ]);

    // A stream's status goes out before its calls run (tRPC's rule, and what
    // httpBatchStreamLink expects), so the refusal is inside, with Retry-After.
    const stream = await fetch(`${t.url}/api/trpc/notes.list?batch=1&input=${encodeURIComponent("{}")}`, { headers: { ...tma(user), "trpc-accept": "application/jsonl" } });
    expect(stream.status).toBe(200);
    expectRetryAfter(stream.headers);
    expect(await stream.text()).toContain('"code":"TOO_MANY_REQUESTS"');

    // A broken body would be 400 if it were read; the address's limit answers first.
    const unread = await fetch(`${t.url}/api/trpc/notes.create`, { method: "POST", headers: { ...tma(user), "content-type": "application/json" }, body: "{not json" });
    expect(unread.status).toBe(429);
    expectRetryAfter(unread.headers);
  });

  test("the diary's REST notes share the address's budget (spent by the calls above) and answer 429 with Retry-After", async () => {
    const refused = await requestJson(`${t.url}/api/telegram/notes`, { headers: { "X-Session-Token": "anything" } });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ success: false, error: expect.stringMatching(/this address/) });
    expectRetryAfter(refused.headers);
  });
});

describe("Mini App API per Telegram user", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { BOT_TOKEN, RATE_LIMIT_DIARY_PER_USER: "2/60" } });
  });
  afterAll(async () => {
    await t.close();
  });

  test("tRPC: a user over the limit gets TOO_MANY_REQUESTS with Retry-After; other users do not", async () => {
    const user = makeUser();
    const api = trpcClient(t.url, httpLink, tma(user));
    expect(await api.notes.list.query()).toEqual([]);
    expect(await api.session.me.query()).toMatchObject({ user: { id: user.id } });
    const refused = await requestJson<TrpcErrorBody>(`${t.url}/api/trpc/notes.list`, { headers: tma(user) });
    expect(refused.status).toBe(429);
    expectRetryAfter(refused.headers);
    expect(refused.body.error).toMatchObject({ code: -32029, message: expect.stringMatching(/too many requests for this user/), data: { code: "TOO_MANY_REQUESTS", httpStatus: 429 } });
    expect(await trpcErrorOf(trpcClient(t.url, httpBatchLink, tma(user)).notes.create.mutate({ text: "не сохранится" }))).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect(await trpcErrorOf(trpcClient(t.url, httpBatchStreamLink, tma(user)).notes.list.query())).toMatchObject({ code: "TOO_MANY_REQUESTS" });

    expect(await trpcClient(t.url, httpLink, tma(makeUser())).notes.list.query()).toEqual([]);
  });

  test("REST notes: a session over the user's limit gets 429 with Retry-After", async () => {
    const user = makeUser();
    // session.start is public: it is under the address's limit only.
    const { token } = await trpcClient(t.url, httpBatchLink, tma(user)).session.start.mutate({ initData: initDataFor(user) });
    const headers = { "X-Session-Token": token };
    expect((await requestJson(`${t.url}/api/telegram/notes`, { headers })).status).toBe(200);
    expect((await postJson(`${t.url}/api/telegram/notes`, { text: "первая" }, headers)).status).toBe(200);
    const refused = await postJson(`${t.url}/api/telegram/notes`, { text: "лишняя" }, headers);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ success: false, error: expect.stringMatching(/too many requests for this user/) });
    expectRetryAfter(refused.headers);
  });
});

describe("join_chat limits", () => {
  let t: TestApp;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_JOIN_PER_SOCKET: "2/60", RATE_LIMIT_JOIN_PER_IP: "5/60" } });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await t.close();
  });

  test("per connection, then per address: an error event naming the wait, and no join", async () => {
    const first = await connectSocket(t.url);
    sockets.push(first);
    expect((await joinAnswer(first, { user_id: "join-a" })).event).toBe("joined");
    expect((await joinAnswer(first, { user_id: "join-b" })).event).toBe("joined");
    const overSocket = await joinAnswer(first, { user_id: "join-c" });
    expect(overSocket).toEqual({ event: "error", payload: { message: expect.stringMatching(/^join_chat: too many requests on this connection; try again later \(retry in \d+ s\)$/) } });
    // Not joined: join-c's messages do not reach this socket.
    const events: unknown[] = [];
    first.on("new_message", (m: unknown) => events.push(m));
    await postJson(`${t.url}/send_message`, { user_id: "join-c", message: "мимо" });
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual([]);
    expect(first.connected).toBe(true);

    // Three attempts spent from this address; a WebSocket-only client shares the budget.
    const second = await connectSocket(t.url, { transports: ["websocket"] });
    sockets.push(second);
    expect((await joinAnswer(second, { user_id: "join-d" })).event).toBe("joined");
    expect((await joinAnswer(second, { user_id: "join-e" })).event).toBe("joined");
    const third = await connectSocket(t.url);
    sockets.push(third);
    expect(await joinAnswer(third, { user_id: "join-f" })).toEqual({ event: "error", payload: { message: expect.stringMatching(/^join_chat: too many requests from this address/) } });
  });
});

describe("RATE_LIMITS=off", () => {
  let t: TestApp;
  beforeAll(async () => {
    // Tight per-limit values too: off wins over all of them.
    t = await startTestApp({ env: { BOT_TOKEN, RATE_LIMITS: "off", RATE_LIMIT_SEND_PER_USER: "1/60", RATE_LIMIT_READ_PER_IP: "1/60", RATE_LIMIT_DIARY_PER_IP: "1/60", RATE_LIMIT_JOIN_PER_SOCKET: "1/60" } });
  });
  afterAll(async () => {
    await t.close();
  });

  test("no inbound limit refuses anything, not even past the built-in defaults", async () => {
    const user = newUser();
    // The default per-user budget is 30 a minute plus a burst of 10.
    for (let i = 0; i < 45; i++) expect((await postJson(`${t.url}/send_message`, { user_id: user, message: `m${i}` })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await requestJson(`${t.url}/message_history/${user}`)).status).toBe(200);
    const api = trpcClient(t.url, httpLink, tma(makeUser()));
    for (let i = 0; i < 5; i++) expect(await api.notes.list.query()).toEqual([]);
    for (let i = 0; i < 5; i++) expect((await requestJson(`${t.url}/api/telegram/notes`)).status).toBe(401);
    const socket = await connectSocket(t.url);
    try {
      // The default per-connection budget is 30 joins a minute.
      for (let i = 0; i < 35; i++) expect((await joinAnswer(socket, { user_id: `off-${i}` })).event).toBe("joined");
    } finally {
      socket.close();
    }
  });
});
