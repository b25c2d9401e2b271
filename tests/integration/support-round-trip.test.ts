// The whole support round trip on real parts: the app posts a user's
// message through grammY into a Telegram stand-in, an agent's reply arrives
// as a webhook update, and it comes back as a history entry, a socket event
// and a push through the real firebase-admin library to an FCM stand-in.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Socket } from "socket.io-client";
import { startFcmStandIn, writeFakeServiceAccount, type FakeServiceAccount, type FcmStandIn } from "../fixtures/fcm-stand-in.js";
import { makePng } from "../fixtures/images.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { connectSocket } from "../fixtures/socket.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { ChatItem as Wire } from "../fixtures/wire.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

const GROUP = -1005550001111;
const SECRET = "round-trip-secret_123";


let tg: TelegramStandIn;
let fcm: FcmStandIn;
let account: FakeServiceAccount;
let t: TestApp;
let socket: Socket;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  account = writeFakeServiceAccount({ projectId: "support-test" });
  fcm = await startFcmStandIn({ projectId: "support-test" });
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
  socket = await connectSocket(t.url);
});
afterAll(async () => {
  socket.close();
  await t.close();
  await fcm.close();
  await tg.close();
  account.cleanup();
});

function webhook(update: unknown, secret = SECRET): Promise<Response> {
  return fetch(`${t.url}/api/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret },
    body: JSON.stringify(update),
  });
}

function nextMessage(predicate: (m: Wire) => boolean, timeoutMs = 3000): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no matching new_message")), timeoutMs);
    const listener = (m: Wire) => {
      if (!predicate(m)) return;
      clearTimeout(timer);
      socket.off("new_message", listener);
      resolve(m);
    };
    socket.on("new_message", listener);
  });
}

describe("send → group → agent reply → history, socket, push", () => {
  test("a text reply comes back everywhere, once, even when Telegram redelivers it", async () => {
    const user = "rt-user-1";
    socket.emit("join_chat", { user_id: user });
    await new Promise((r) => socket.once("joined", r));
    await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "phone-token-1", platform: "android" });
    await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "tablet-token-2", platform: "ios" });
    await postJson(`${t.url}/register_device`, { user_id: "someone-else", fcm_token: "other-token" });

    const sent = await postJson<{ message_id: number; delivery: string }>(`${t.url}/send_message`, { user_id: user, user_name: "Вера", message: "Где мой заказ?" });
    expect(sent.body.delivery).toBe("sent");
    const posted = tg.sent(GROUP).find((m) => m.message_id === sent.body.message_id);
    expect(posted?.text).toContain("Где мой заказ?");

    const reply = tg.updates.groupText({ chatId: GROUP, text: "Заказ уже в пути 🚚", replyTo: sent.body.message_id });
    const arriving = nextMessage((m) => m.direction === "support" && m.message === "Заказ уже в пути 🚚");
    const answer = await webhook(reply);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ ok: true });
    const event = await arriving;

    const history = await requestJson<{ messages: Wire[] }>(`${t.url}/message_history/${user}`);
    expect(history.body.messages.find((m) => m.id === event.id)).toEqual(event);

    await expect.poll(() => fcm.requests.filter((r) => r.data?.message_id === String(event.id)).length).toBe(2);
    const pushes = fcm.requests.filter((r) => r.data?.message_id === String(event.id));
    expect(pushes.map((p) => p.token).sort()).toEqual(["phone-token-1", "tablet-token-2"]);
    expect(pushes[0]?.data).toMatchObject({ user_id: user, direction: "support", message_id: String(event.id) });
    expect(pushes[0]?.notification).toMatchObject({ body: "Заказ уже в пути 🚚" });

    // Telegram redelivers the same update (say, our answer was lost): nothing new.
    expect((await webhook(reply)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const again = await requestJson<{ messages: Wire[] }>(`${t.url}/message_history/${user}`);
    expect(again.body.messages.filter((m) => m.message === "Заказ уже в пути 🚚")).toHaveLength(1);
    expect(fcm.requests.filter((r) => r.data?.message_id === String(event.id))).toHaveLength(2);
  });

  test("a photo reply is downloaded into uploads (largest size) and served", async () => {
    const user = "rt-user-photo";
    const sent = await postJson<{ message_id: number }>(`${t.url}/send_message`, { user_id: user, message: "Пришлите инструкцию" });
    const png = makePng(12, 12);
    const arriving = nextMessage((m) => m.user_id === user && m.direction === "support");
    socket.emit("join_chat", { user_id: user });
    await new Promise((r) => socket.once("joined", r));
    const update = tg.updates.groupPhoto({ chatId: GROUP, bytes: png, caption: "Вот она", replyTo: sent.body.message_id });
    expect((await webhook(update)).status).toBe(200);
    const event = await arriving;
    expect(event.message).toBe("Вот она");
    expect(event.photo_url).toMatch(/^\/uploads\/.+\.png$/);
    const file = await fetch(`${t.url}${event.photo_url}`);
    // Written anew by the store: the same picture, pixel for pixel (PNG is lossless).
    const pixels = (bytes: Buffer) => sharp(bytes).raw().toBuffer();
    expect((await pixels(Buffer.from(await file.arrayBuffer()))).equals(await pixels(png))).toBe(true);
  });

  test("an unregistered token is removed after FCM refuses it", async () => {
    const user = "rt-user-stale";
    await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "stale-token" });
    await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "live-token" });
    fcm.fail("stale-token", "unregistered");
    const sent = await postJson<{ message_id: number }>(`${t.url}/send_message`, { user_id: user, message: "Алло" });
    expect((await webhook(tg.updates.groupText({ chatId: GROUP, text: "Слушаю", replyTo: sent.body.message_id }))).status).toBe(200);
    await expect.poll(async () => (await requestJson(`${t.url}/check_device/${user}`)).body.device_count).toBe(1);
    expect(await t.app.devices.tokensOf(user)).toEqual(["live-token"]);
    expect(fcm.requests.some((r) => r.token === "live-token" && r.status === 200)).toBe(true);
  });

  test("a push that FCM fails transiently is retried until it is delivered", async () => {
    const user = "rt-user-retry";
    await postJson(`${t.url}/register_device`, { user_id: user, fcm_token: "flaky-token" });
    fcm.fail("flaky-token", "unavailable", 2);
    const sent = await postJson<{ message_id: number }>(`${t.url}/send_message`, { user_id: user, message: "Есть кто?" });
    expect((await webhook(tg.updates.groupText({ chatId: GROUP, text: "Да, здесь", replyTo: sent.body.message_id }))).status).toBe(200);
    await expect.poll(() => fcm.requests.some((r) => r.token === "flaky-token" && r.status === 200), { timeout: 20_000, interval: 200 }).toBe(true);
    expect(fcm.requests.filter((r) => r.token === "flaky-token" && r.status >= 500).length).toBeGreaterThanOrEqual(2);
    expect(await t.app.devices.tokensOf(user)).toEqual(["flaky-token"]);
    await expect.poll(async () => (await t.app.outbox.stats("push")).depth).toBe(0);
  });

  test("replies to nothing the bot posted, and other chats, reach no user", async () => {
    const supportMessages = async () => (await t.app.db.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE direction = 'support'"))?.n;
    const before = await supportMessages();
    expect(before).toBeTypeOf("number");
    const loose = tg.updates.groupText({ chatId: GROUP, text: "просто болтаем" });
    const otherChat = tg.updates.groupText({ chatId: -100999, text: "чужой чат", replyTo: 1 });
    expect((await webhook(loose)).status).toBe(200);
    expect((await webhook(otherChat)).status).toBe(200);
    expect(await supportMessages()).toBe(before);
  });

  test("a wrong or missing secret is refused and nothing is processed", async () => {
    const sent = await postJson<{ message_id: number }>(`${t.url}/send_message`, { user_id: "rt-secret", message: "?" });
    const update = tg.updates.groupText({ chatId: GROUP, text: "не должно дойти", replyTo: sent.body.message_id });
    expect((await webhook(update, "wrong")).status).toBe(401);
    const viaQuery = await fetch(`${t.url}/api/telegram/webhook?secret=${SECRET}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(update) });
    expect(viaQuery.status).toBe(200);
    const history = await requestJson<{ messages: Wire[] }>(`${t.url}/message_history/rt-secret`);
    expect(history.body.messages.filter((m) => m.message === "не должно дойти")).toHaveLength(1);
  });
});
