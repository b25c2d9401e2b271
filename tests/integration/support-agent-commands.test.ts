// Agents' commands in the support group (SPEC §7), reply mode: real Updates
// posted to the webhook, answers read from what the bot sent to the
// Telegram stand-in, effects read over the mobile REST API and sockets.
import { readdirSync } from "node:fs";
import path from "node:path";
import type { Message, User } from "grammy/types";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { makePng } from "../fixtures/images.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import type { History, SendAnswer } from "../fixtures/wire.js";
import { nextEvent, pause, record, startDesk, type Desk } from "./desk-setup.js";

const GROUP = -1005550003333;
const OTHER_BOT: User = { id: 8_800_000_001, is_bot: true, first_name: "Other bot", username: "other_helper_bot" };
const COLLEAGUE: User = { id: 7002, is_bot: false, first_name: "Colleague" };
let d: Desk;

beforeAll(async () => {
  d = await startDesk(GROUP);
});
afterAll(async () => {
  await d.close();
});

/** An agent (or `from`) writes `text` in the group, optionally as a reply; resolves to the bot's answers to it. */
async function command(text: string, replyTo?: number, from?: User): Promise<Message[]> {
  const update = d.tg.updates.groupText({ chatId: GROUP, text, replyTo, ...(from ? { from } : {}) });
  const id = (update as { message: Message }).message.message_id;
  expect((await d.webhook(update)).status).toBe(200);
  return d.tg.sent(GROUP).filter((m) => m.reply_to_message?.message_id === id);
}

const history = async (userId: string) => (await requestJson<History>(`${d.t.url}/message_history/${userId}?limit=200`)).body.messages;

describe("/info", () => {
  test("an agent's /info as a reply to a user's post answers with who they are, as a plain reply", async () => {
    const user = "cmd-info-1";
    await postJson(`${d.t.url}/register_device`, { user_id: user, fcm_token: "info-a", platform: "android" });
    await postJson(`${d.t.url}/register_device`, { user_id: user, fcm_token: "info-b", platform: "ios" });
    const post = await d.userSays(user, "Привет", "Вера <b>");
    await d.agentReplies(user, post.message_id as number, "Здравствуйте!");
    const answers = await command("/info", post.message_id as number);
    expect(answers).toHaveLength(1);
    const text = answers[0]?.text ?? "";
    expect(text).toContain(`Пользователь: Вера <b> · ${user}`);
    expect(text).toContain("Устройства: 2 (android, ios)");
    expect(text).toContain("Push доходит: да");
    expect(text).toMatch(/Первое сообщение: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(text).toMatch(/Последнее сообщение: \d{4}-\d\d-\d\d/);
    // the user's post, the reply, and the day's greeting the history request added
    expect(text).toContain("Сообщений: 3");
    expect(text).toContain("Заблокирован: нет");
    expect(text).toContain("Разговор: открыт");
    const call = d.tg.callsTo("sendMessage").find((c) => c.messageIds[0] === answers[0]?.message_id);
    expect(call?.params.parse_mode).toBeUndefined();
    // the command itself never reached the user
    expect((await history(user)).some((m) => m.message.startsWith("/info"))).toBe(false);
  });

  test("/info@<bot> works; /info from a bot is ignored and not delivered; without a user it says how to use it", async () => {
    const user = "cmd-info-2";
    const post = await d.userSays(user, "Вопрос");
    expect(await command(`/info@${d.tg.botInfo.username}`, post.message_id as number)).toHaveLength(1);
    expect(await command("/info", post.message_id as number, OTHER_BOT)).toEqual([]);
    expect((await history(user)).some((m) => m.message.startsWith("/info"))).toBe(false);

    const loose = await command("/info");
    expect(loose).toHaveLength(1);
    expect(loose[0]?.text).toMatch(/в теме пользователя или ответом на его сообщение/);
    // a reply to a colleague's message has no user either
    const chatter = d.tg.updates.groupText({ chatId: GROUP, text: "кто на смене?", from: COLLEAGUE });
    expect((await d.webhook(chatter)).status).toBe(200);
    const toChatter = await command("/info", (chatter as { message: Message }).message.message_id);
    expect(toChatter[0]?.text).toMatch(/в теме пользователя или ответом на его сообщение/);
  });

  test("any person in the group may use the commands, not only the menu's administrators", async () => {
    const post = await d.userSays("cmd-info-3", "Есть кто?");
    const answers = await command("/info", post.message_id as number, COLLEAGUE);
    expect(answers[0]?.text).toContain("cmd-info-3");
  });
});

describe("/history", () => {
  test("the last n messages with direction and time; the default is 10, at most 50; bad n gets the usage", async () => {
    const user = "cmd-history-1";
    await history(user); // the day's greeting comes first, out of the way
    const first = await d.userSays(user, "сообщение 1");
    for (let i = 2; i <= 12; i++) await d.userSays(user, `сообщение ${i}`);
    await d.agentReplies(user, first.message_id as number, "ответ агента");

    const two = await command("/history 2", first.message_id as number);
    expect(two).toHaveLength(1);
    const lines = (two[0]?.text ?? "").split("\n\n");
    expect(lines[0]).toMatch(/Последние сообщения пользователя cmd-history-1 \(2\)/);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · Пользователь: сообщение 12$/);
    expect(lines[2]).toMatch(/· Поддержка: ответ агента$/);

    const byDefault = await command("/history", first.message_id as number);
    expect((byDefault[0]?.text ?? "").split("\n\n")).toHaveLength(11);
    const usage = await command("/history много", first.message_id as number);
    expect(usage[0]?.text).toMatch(/^\/history \[n\]/);
    expect(await history(user).then((h) => h.some((m) => m.message.startsWith("/history")))).toBe(false);
  });

  test("a long history is split at Telegram's 4096-character limit, nothing lost", async () => {
    const user = "cmd-history-long";
    const first = await d.userSays(user, "начало");
    for (let i = 0; i < 55; i++) await d.userSays(user, `${i}:${"слово ".repeat(60)}`);
    const answers = await command("/history 100", first.message_id as number);
    expect(answers.length).toBeGreaterThan(1);
    for (const answer of answers) expect((answer.text ?? "").length).toBeLessThanOrEqual(4096);
    const all = answers.map((a) => a.text ?? "").join("\n\n");
    expect(all).toContain("(50)");
    expect(all).toContain("54:слово");
    expect(all).not.toContain("начало");
  });
});

describe("/close", () => {
  test("closes the conversation; the user's next message opens it again", async () => {
    const user = "cmd-close-1";
    const post = await d.userSays(user, "Спасибо, всё работает");
    const closed = await command("/close", post.message_id as number);
    expect(closed[0]?.text).toMatch(/Разговор закрыт/);
    expect((await command("/info", post.message_id as number))[0]?.text).toContain("Разговор: закрыт");
    const again = await d.userSays(user, "Ой, снова сломалось");
    expect((await command("/info", again.message_id as number))[0]?.text).toContain("Разговор: открыт");
  });
});

describe("/ban and /unban", () => {
  test("while banned /send_message answers 403 and nothing is stored, posted or kept; history stays readable", async () => {
    const user = "cmd-ban-1";
    const socket = await d.joinedSocket(user);
    const events = record(socket, "new_message");
    const post = await d.userSays(user, "спам");
    const banned = await command("/ban реклама", post.message_id as number);
    expect(banned[0]?.text).toMatch(/заблокирован \(причина: реклама\)/);
    expect((await command("/info", post.message_id as number))[0]?.text).toContain("Заблокирован: да, причина: реклама");

    const before = await history(user);
    // That history added the day's greeting; its event may come after the
    // answer when another instance of a cluster added it (through Redis).
    await vi.waitFor(() => expect(events.length).toBe(before.length));
    const postsBefore = d.tg.sent(GROUP).length;
    const eventsBefore = events.length;
    const uploadsBefore = readdirSync(path.join(d.t.dir, "uploads")).length;
    const json = await postJson<SendAnswer>(`${d.t.url}/send_message`, { user_id: user, message: "ещё спам" });
    expect(json.status).toBe(403);
    expect(json.body.success).toBe(false);
    expect(json.body.error).toMatch(/blocked/);
    const form = await requestJson<SendAnswer>(`${d.t.url}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: user, message: "с картинкой" }, [{ bytes: makePng(8, 8), name: "a.png", type: "image/png" }]),
    });
    expect(form.status).toBe(403);
    expect(form.body.success).toBe(false);
    await pause(200);
    const after = await history(user);
    expect(after).toEqual(before);
    expect(d.tg.sent(GROUP).length).toBe(postsBefore);
    expect(events.length).toBe(eventsBefore);
    expect(readdirSync(path.join(d.t.dir, "uploads")).length).toBe(uploadsBefore);

    const unbanned = await command("/unban", post.message_id as number);
    expect(unbanned[0]?.text).toBe(`Пользователь ${user} разблокирован.`);
    expect((await command("/unban", post.message_id as number))[0]?.text).toBe(`Пользователь ${user} не был заблокирован.`);
    const back = await d.userSays(user, "я исправлюсь");
    expect(back.delivery).toBe("sent");
  });

  test("a bot cannot ban", async () => {
    const user = "cmd-ban-2";
    const post = await d.userSays(user, "привет");
    expect(await command("/ban", post.message_id as number, OTHER_BOT)).toEqual([]);
    expect((await d.userSays(user, "всё ещё можно")).delivery).toBe("sent");
  });
});

describe("/delete", () => {
  test("a reply to the agent's delivered message takes it out of the app's history, with message_deleted", async () => {
    const user = "cmd-delete-1";
    const socket = await d.joinedSocket(user);
    const post = await d.userSays(user, "Сколько ждать?");
    const { item, telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Ошибочный ответ");
    expect((await requestJson<{ unread: number }>(`${d.t.url}/unread_count/${user}`)).body.unread).toBe(1);
    const deleted = nextEvent(socket, "message_deleted");
    const answers = await command("/delete", telegramMessageId);
    expect(answers[0]?.text).toBe("Сообщение удалено из истории в приложении.");
    expect(await deleted).toEqual({ id: item.id, user_id: user });
    expect((await history(user)).some((m) => m.id === item.id)).toBe(false);
    expect((await requestJson<{ unread: number }>(`${d.t.url}/unread_count/${user}`)).body.unread).toBe(0);
    // an edit of the deleted message brings nothing back
    expect((await d.webhook(d.tg.updates.editText(GROUP, telegramMessageId, "исправлено"))).status).toBe(200);
    expect((await history(user)).some((m) => m.id === item.id)).toBe(false);
    // deleting twice, or deleting a user's post, deletes nothing
    expect((await command("/delete", telegramMessageId))[0]?.text).toMatch(/удалять нечего/);
    expect((await command("/delete", post.message_id as number))[0]?.text).toMatch(/удалять нечего/);
    expect((await history(user)).some((m) => m.id === post.id)).toBe(true);
  });

  test("/delete without a reply says how to use it; from a bot it does nothing", async () => {
    expect((await command("/delete"))[0]?.text).toMatch(/^\/delete отправьте ответом/);
    const user = "cmd-delete-2";
    const post = await d.userSays(user, "?");
    const { item, telegramMessageId } = await d.agentReplies(user, post.message_id as number, "Ответ");
    expect(await command("/delete", telegramMessageId, OTHER_BOT)).toEqual([]);
    expect((await history(user)).some((m) => m.id === item.id)).toBe(true);
  });
});

describe("what never reaches the user", () => {
  test("notes for colleagues and unknown commands in reply to a user's post are not delivered", async () => {
    const user = "cmd-notes-1";
    const socket = await d.joinedSocket(user);
    const events = record<{ direction: string }>(socket, "new_message");
    const post = await d.userSays(user, "Помогите");
    await command("// это тот самый клиент", post.message_id as number);
    await command("/start", post.message_id as number);
    await command("/whatever@other_helper_bot", post.message_id as number);
    await pause(200);
    expect(events.filter((e) => e.direction === "support")).toEqual([]);
    expect((await history(user)).filter((m) => m.direction === "support" && !m.message.startsWith("Здравствуйте"))).toEqual([]);
    // a reply starting with a slash that is no command still goes through
    await d.agentReplies(user, post.message_id as number, "/путь/к/файлу не нужен");
  });
});

describe("the command menu", () => {
  test("is registered for the group's administrators at start, /start kept for everyone else", async () => {
    await expect.poll(() => d.tg.state.commands.get(`chat_administrators:${GROUP}|`)?.map((c) => c.command)).toEqual(["info", "history", "close", "ban", "unban", "delete"]);
    const call = d.tg.callsTo("setMyCommands").find((c) => (c.params.scope as { type?: string } | undefined)?.type === "chat_administrators");
    expect(call?.params.scope).toEqual({ type: "chat_administrators", chat_id: String(GROUP) });
    expect(call?.ok).toBe(true);
    expect(d.tg.state.commands.get("default|")?.map((c) => c.command)).toEqual(["start"]);
  });
});
