// Read state and agents' edits (SPEC §7) on real parts: sockets of one user
// on two devices, mark_read over REST and over the socket, unread counts,
// the badge in pushes through firebase-admin, and an agent's edit in the
// group arriving as a real edited_message Update.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson, requestJson } from "../fixtures/http.js";
import type { ChatItem, History } from "../fixtures/wire.js";
import { nextEvent, pause, record, startDesk, type Desk } from "./desk-setup.js";

const GROUP = -1005550002222;
let d: Desk;

beforeAll(async () => {
  d = await startDesk(GROUP);
});
afterAll(async () => {
  await d.close();
});

const unread = async (userId: string) => (await requestJson<{ user_id: string; unread: number }>(`${d.t.url}/unread_count/${userId}`)).body;
const history = async (userId: string) => (await requestJson<History>(`${d.t.url}/message_history/${userId}`)).body.messages;

describe("read state", () => {
  test("a phone marks read over REST and over the socket; the other device is told, counts follow", async () => {
    const user = "read-user-1";
    const phone = await d.joinedSocket(user);
    const tablet = await d.joinedSocket(user);
    const post = await d.userSays(user, "Где мой заказ?");
    const first = (await d.agentReplies(user, post.message_id as number, "Уже едет")).item;
    const second = (await d.agentReplies(user, post.message_id as number, "Будет завтра")).item;
    expect(await unread(user)).toEqual({ user_id: user, unread: 2 });

    const items = await history(user);
    const byId = (id: number) => items.find((m) => m.id === id) as ChatItem;
    expect(byId(first.id).read).toBe(false);
    expect(byId(second.id).read).toBe(false);
    // The user's own message carries no `read`: that is the user's state, not the agents'.
    expect(byId(post.id)).not.toHaveProperty("read");
    // The day's greeting is added while the user looks at the chat: it is never unread.
    expect(items.find((m) => m.message.startsWith("Здравствуйте"))?.read).toBe(true);

    const tabletHears = nextEvent<{ user_id: string; up_to_id: number; unread: number }>(tablet, "read");
    const rest = await postJson(`${d.t.url}/mark_read`, { user_id: user, up_to_id: first.id });
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual({ success: true, unread: 1 });
    expect(await tabletHears).toEqual({ user_id: user, up_to_id: first.id, unread: 1 });
    expect(await unread(user)).toMatchObject({ unread: 1 });

    const phoneHears = nextEvent(phone, "read");
    const ack = await new Promise((resolve) => tablet.emit("mark_read", { user_id: user, up_to_id: second.id }, resolve));
    expect(ack).toEqual({ success: true, unread: 0 });
    expect(await phoneHears).toEqual({ user_id: user, up_to_id: second.id, unread: 0 });
    const after = await history(user);
    expect(after.filter((m) => m.direction === "support").every((m) => m.read === true)).toBe(true);

    // Monotonic: an older up_to_id (a late request from another device) un-reads nothing.
    expect((await postJson(`${d.t.url}/mark_read`, { user_id: user, up_to_id: first.id })).body).toEqual({ success: true, unread: 0 });
    expect((await history(user)).find((m) => m.id === second.id)?.read).toBe(true);

    // A new reply is unread again; another user's state is untouched.
    await d.agentReplies(user, post.message_id as number, "Курьер позвонит");
    expect((await unread(user)).unread).toBe(1);
    expect((await unread("read-user-nobody")).unread).toBe(0);
  });

  test("a socket that never joined gets the outcome of its own mark_read", async () => {
    const user = "read-user-2";
    const post = await d.userSays(user, "Вопрос");
    const reply = (await d.agentReplies(user, post.message_id as number, "Ответ")).item;
    const loner = await d.joinedSocket("someone-else");
    const heard = nextEvent(loner, "read");
    loner.emit("mark_read", { user_id: user, up_to_id: reply.id });
    expect(await heard).toEqual({ user_id: user, up_to_id: reply.id, unread: 0 });
  });

  test.each([
    [{ user_id: "read-bad" }, /up_to_id is required/],
    [{ up_to_id: 3 }, /user_id is required/],
    [{ user_id: "read-bad", up_to_id: 0 }, /up_to_id must be a positive whole number/],
    [{ user_id: "read-bad", up_to_id: -4 }, /up_to_id must be a positive whole number/],
    [{ user_id: "read-bad", up_to_id: 1.5 }, /up_to_id must be a positive whole number/],
    [{ user_id: "read-bad", up_to_id: "abc" }, /up_to_id must be a positive whole number/],
    [{ user_id: "read-bad", up_to_id: null }, /up_to_id/],
    [[1, 2], /JSON object/],
  ])("POST /mark_read %j → 400 naming the problem", async (body, error) => {
    const res = await postJson<{ success: boolean; error: string }>(`${d.t.url}/mark_read`, body);
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error).toMatch(error);
  });

  test("bad mark_read input: non-JSON body, a bad path user id, a bad socket event", async () => {
    const notJson = await requestJson<{ success: boolean }>(`${d.t.url}/mark_read`, { method: "POST", headers: { "content-type": "application/json" }, body: "{up_to_id" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.success).toBe(false);
    expect((await requestJson(`${d.t.url}/unread_count/${encodeURIComponent(" spaced ")}`)).status).toBe(400);
    expect((await requestJson(`${d.t.url}/unread_count`)).status).toBe(400);
    // A numeric string is taken as the app may keep ids as text.
    expect((await postJson(`${d.t.url}/mark_read`, { user_id: "read-bad", up_to_id: "12" })).body).toEqual({ success: true, unread: 0 });

    const socket = await d.joinedSocket("read-bad");
    const error = nextEvent<{ message: string }>(socket, "error");
    const ack = await new Promise((resolve) => socket.emit("mark_read", { user_id: "read-bad", up_to_id: "x" }, resolve));
    expect(ack).toEqual({ success: false, error: "up_to_id must be a positive whole number" });
    expect((await error).message).toMatch(/^mark_read: up_to_id/);
  });

  test("each push carries the unread count in its data and as the iOS badge", async () => {
    const user = "read-user-push";
    await postJson(`${d.t.url}/register_device`, { user_id: user, fcm_token: "badge-phone", platform: "ios" });
    const post = await d.userSays(user, "Есть новости?");
    const first = (await d.agentReplies(user, post.message_id as number, "Пока нет")).item;
    const pushOf = (id: number) => d.fcm.requests.find((r) => r.data?.message_id === String(id) && r.status === 200);
    await expect.poll(() => pushOf(first.id)).toBeDefined();
    expect(pushOf(first.id)?.data?.unread).toBe("1");
    expect(pushOf(first.id)?.apns).toMatchObject({ payload: { aps: { badge: 1 } } });

    const second = (await d.agentReplies(user, post.message_id as number, "Теперь есть")).item;
    await expect.poll(() => pushOf(second.id)).toBeDefined();
    expect(pushOf(second.id)?.data?.unread).toBe("2");
    expect(pushOf(second.id)?.apns).toMatchObject({ payload: { aps: { badge: 2 } } });

    await postJson(`${d.t.url}/mark_read`, { user_id: user, up_to_id: second.id });
    const third = (await d.agentReplies(user, post.message_id as number, "И ещё")).item;
    await expect.poll(() => pushOf(third.id)).toBeDefined();
    expect(pushOf(third.id)?.data?.unread).toBe("1");
  });
});

describe("agents' edits", () => {
  test("an edit changes the text in history and on the sockets, with edited_at and no second push", async () => {
    const user = "edit-user-1";
    await postJson(`${d.t.url}/register_device`, { user_id: user, fcm_token: "edit-phone" });
    const socket = await d.joinedSocket(user);
    const post = await d.userSays(user, "Сколько стоит?");
    const { item, telegramMessageId } = await d.agentReplies(user, post.message_id as number, "100 рублей");
    await expect.poll(() => d.fcm.requests.filter((r) => r.data?.message_id === String(item.id)).length).toBe(1);

    const updated = nextEvent<ChatItem>(socket, "message_updated");
    expect((await d.webhook(d.tg.updates.editText(GROUP, telegramMessageId, "200 рублей"))).status).toBe(200);
    const event = await updated;
    expect(event).toMatchObject({ id: item.id, user_id: user, message: "200 рублей", direction: "support", created_at: item.created_at });
    expect(event.edited_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const inHistory = (await history(user)).find((m) => m.id === item.id);
    expect(inHistory).toEqual(event);

    await pause(300);
    await expect.poll(async () => (await d.t.app.outbox.stats("push")).depth).toBe(0);
    expect(d.fcm.requests.filter((r) => r.data?.message_id === String(item.id))).toHaveLength(1);
  });

  test("an edit that changes nothing shown, and edits of other messages, change nothing", async () => {
    const user = "edit-user-2";
    const socket = await d.joinedSocket(user);
    const updates = record<ChatItem>(socket, "message_updated");
    const post = await d.userSays(user, "Алло");
    const { item, telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Слушаю");
    const note = d.tg.updates.groupText({ chatId: GROUP, text: "// коллеги, это VIP", replyTo: post.message_id as number });
    expect((await d.webhook(note)).status).toBe(200);
    const noteId = (note as { message: { message_id: number } }).message.message_id;
    const stray = d.tg.updates.groupText({ chatId: GROUP, text: "обед в 13:00" });
    expect((await d.webhook(stray)).status).toBe(200);
    const before = await history(user);

    // Telegram sends edited_message also when only formatting or a link preview changed.
    expect((await d.webhook(d.tg.updates.editText(GROUP, telegramMessageId, "Слушаю"))).status).toBe(200);
    expect((await d.webhook(d.tg.updates.editText(GROUP, noteId, "теперь не заметка"))).status).toBe(200);
    expect((await d.webhook(d.tg.updates.editText(GROUP, (stray as { message: { message_id: number } }).message.message_id, "обед в 14:00"))).status).toBe(200);
    await pause(300);
    expect(updates).toEqual([]);
    const after = await history(user);
    expect(after).toEqual(before);
    expect(after.find((m) => m.id === item.id)).not.toHaveProperty("edited_at");
  });
});
