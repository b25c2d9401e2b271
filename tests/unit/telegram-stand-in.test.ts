// The stand-in speaks Telegram's wire protocol: proven by driving it with the
// real grammY client (JSON, multipart uploads, attach://, errors).
import { Bot, GrammyError, HttpError, InputFile } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";

const GROUP = -1001234567890;
// Smallest valid PNG header + IHDR: enough for "is this an image" checks.
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");
const JPEG = Buffer.concat([Buffer.from("ffd8ffe000104a46494600", "hex"), Buffer.alloc(64, 7)]);

let tg: TelegramStandIn;
let bot: Bot;

beforeEach(async () => {
  tg = await startTelegramStandIn();
  bot = new Bot(tg.token, { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
});
afterEach(async () => {
  await tg.close();
});

describe("telegram stand-in through grammY", () => {
  it("answers getMe and rejects an unknown token with 401", async () => {
    expect((await bot.api.getMe()).id).toBe(tg.botInfo.id);
    const stranger = new Bot("42:nope", { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
    const error = await stranger.api.getMe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).error_code).toBe(401);
    expect((error as GrammyError).description).toBe("Unauthorized");
  });

  it("records which process called when its API root came from envFor(group, caller)", async () => {
    const env = tg.envFor(GROUP, "instance-a");
    expect(env.TELEGRAM_API_ROOT).toBe(`${tg.apiRoot}/caller/instance-a`);
    const a = new Bot(env.BOT_TOKEN, { botInfo: tg.botInfo, client: { apiRoot: env.TELEGRAM_API_ROOT } });
    await a.api.sendMessage(GROUP, "from a");
    await bot.api.sendMessage(GROUP, "from nobody in particular");
    expect(tg.callsTo("sendMessage").map((c) => c.caller)).toEqual(["instance-a", undefined]);
    expect(tg.sent(GROUP).map((m) => m.text)).toEqual(["from a", "from nobody in particular"]);
  });

  it("sends text with per-chat increasing ids and Telegram's validation", async () => {
    const first = await bot.api.sendMessage(GROUP, "hello");
    const second = await bot.api.sendMessage(GROUP, "*bold* and _it_", { parse_mode: "MarkdownV2" });
    const elsewhere = await bot.api.sendMessage(555, "hi");
    expect(second.message_id).toBe(first.message_id + 1);
    expect(elsewhere.message_id).toBe(1);
    expect(first.chat).toMatchObject({ id: GROUP, type: "supergroup" });
    expect(second.text).toBe("bold and it");
    expect(second.entities).toEqual([{ offset: 0, length: 4, type: "bold" }, { offset: 9, length: 2, type: "italic" }]);

    const failures = await Promise.all([
      bot.api.sendMessage(GROUP, "x".repeat(4097)),
      bot.api.sendMessage(GROUP, " "),
      bot.api.sendMessage(GROUP, "1 + 1 = 2.", { parse_mode: "MarkdownV2" }),
      bot.api.sendMessage(GROUP, "<b>open", { parse_mode: "HTML" }),
      bot.api.sendMessage(GROUP, "*never closed", { parse_mode: "Markdown" }),
    ].map((p) => p.then(() => null, (e: GrammyError) => e.description)));
    expect(failures[0]).toBe("Bad Request: message is too long");
    expect(failures[1]).toBe("Bad Request: message text is empty");
    for (const description of failures.slice(2)) expect(description).toMatch(/^Bad Request: can't parse entities: /);
    expect(tg.callsTo("sendMessage").filter((c) => c.ok).map((c) => c.messageIds)).toEqual([[first.message_id], [second.message_id], [1]]);
  });

  it("uploads a photo as multipart and reports it as an upload", async () => {
    const message = await bot.api.sendPhoto(GROUP, new InputFile(PNG, "p.png"), { caption: "look" });
    expect(message.caption).toBe("look");
    expect(message.photo?.length).toBeGreaterThan(1);
    const [call] = tg.callsTo("sendPhoto");
    expect(call?.media).toMatchObject([{ field: "photo", source: "upload", filename: "p.png" }]);
    expect(call?.media[0]?.bytes?.equals(PNG)).toBe(true);

    const tooLong = await bot.api.sendPhoto(GROUP, new InputFile(PNG), { caption: "c".repeat(1025) }).catch((e: GrammyError) => e.description);
    expect(tooLong).toBe("Bad Request: message caption is too long");
    const notImage = await bot.api.sendPhoto(GROUP, new InputFile(Buffer.from("plain text"))).catch((e: GrammyError) => e.description);
    expect(notImage).toBe("Bad Request: IMAGE_PROCESS_FAILED");
  });

  it("takes a photo by URL only when it can fetch it", async () => {
    tg.canFetchUrl = (url) => url.includes("good");
    const ok = await bot.api.sendPhoto(GROUP, "https://cdn.example/good.jpg");
    expect(ok.photo).toBeDefined();
    const error = await bot.api.sendPhoto(GROUP, "https://cdn.example/bad.jpg").catch((e: unknown) => e);
    expect((error as GrammyError).description).toBe("Bad Request: wrong file identifier/HTTP URL specified");
    expect(tg.callsTo("sendPhoto").map((c) => c.media[0]?.source)).toEqual(["url", "url"]);
  });

  it("uploads a media group with attach:// references and enforces 2..10 items", async () => {
    const messages = await bot.api.sendMediaGroup(GROUP, [
      { type: "photo", media: new InputFile(JPEG, "a.jpg"), caption: "album" },
      { type: "photo", media: new InputFile(PNG, "b.png") },
    ]);
    expect(messages.map((m) => m.message_id)).toEqual([1, 2]);
    expect(messages[0]?.caption).toBe("album");
    const groupIds = messages.map((m) => ("media_group_id" in m ? m.media_group_id : undefined));
    expect(groupIds[0]).toBeDefined();
    expect(groupIds[0]).toBe(groupIds[1]);
    const [call] = tg.callsTo("sendMediaGroup");
    expect(call?.media.map((m) => [m.field, m.source, m.filename])).toEqual([["media[0]", "upload", "a.jpg"], ["media[1]", "upload", "b.png"]]);
    expect(call?.messageIds).toEqual([1, 2]);

    const one = await bot.api.sendMediaGroup(GROUP, [{ type: "photo", media: new InputFile(PNG) }]).catch((e: GrammyError) => e.error_code);
    const eleven = await bot.api.sendMediaGroup(GROUP, Array.from({ length: 11 }, () => ({ type: "photo" as const, media: new InputFile(PNG) }))).catch((e: GrammyError) => e.error_code);
    expect([one, eleven]).toEqual([400, 400]);
  });

  it("serves registered files through getFile and the file download path", async () => {
    const bytes = Buffer.from("some photo bytes");
    const stored = tg.addFile(bytes);
    const file = await bot.api.getFile(stored.file_id);
    expect(file.file_size).toBe(bytes.length);
    const response = await fetch(`${tg.apiRoot}/file/bot${tg.token}/${file.file_path ?? ""}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch(`${tg.apiRoot}/file/bot${tg.token}/photos/missing.jpg`)).status).toBe(404);
    expect(await bot.api.getFile("nope").catch((e: GrammyError) => e.description)).toBe("Bad Request: invalid file_id");
  });

  it("surfaces 429 retry_after as GrammyError and a dropped socket as HttpError", async () => {
    tg.failNext(1, { kind: "retry-after", seconds: 7 });
    const limited = await bot.api.sendMessage(GROUP, "a").catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(GrammyError);
    expect((limited as GrammyError).error_code).toBe(429);
    expect((limited as GrammyError).parameters.retry_after).toBe(7);

    tg.failNext(1, { kind: "network" });
    expect(await bot.api.sendMessage(GROUP, "b").catch((e: unknown) => e)).toBeInstanceOf(HttpError);
    tg.failNext(1, { kind: "server-error" });
    expect(await bot.api.sendMessage(GROUP, "c").catch((e: GrammyError) => e.error_code)).toBe(500);
    tg.setDown(true);
    expect(await bot.api.sendMessage(GROUP, "d").catch((e: unknown) => e)).toBeInstanceOf(HttpError);
    tg.setDown(false);

    tg.failNext(1, { kind: "network-after" });
    expect(await bot.api.sendMessage(GROUP, "e").catch((e: unknown) => e)).toBeInstanceOf(HttpError);
    expect(tg.sent(GROUP).map((m) => m.text)).toEqual(["e"]);
    expect((await bot.api.sendMessage(GROUP, "f")).text).toBe("f");
    expect(tg.stats.tooManyRequests).toBe(1);
  });

  it("enforces the per-group limit with album items counted", async () => {
    tg.setGroupLimit({ limit: 3, windowMs: 60_000 });
    await bot.api.sendMessage(GROUP, "1");
    await bot.api.sendMediaGroup(GROUP, [{ type: "photo", media: new InputFile(PNG) }, { type: "photo", media: new InputFile(PNG) }]);
    const error = (await bot.api.sendMessage(GROUP, "4").catch((e: unknown) => e)) as GrammyError;
    expect(error).toBeInstanceOf(GrammyError);
    expect(error.error_code).toBe(429);
    expect(error.parameters.retry_after).toBeGreaterThanOrEqual(59);
    expect(await bot.api.sendMessage(777, "private chats are not paced")).toBeDefined();
    expect(tg.stats).toEqual({ tooManyRequests: 1, groupLimited: 1 });
  });

  it("keeps webhook state and long-polls getUpdates", async () => {
    const failing = await bot.api.setWebhook("http://127.0.0.1/hook").catch((e: GrammyError) => e.description);
    expect(failing).toBe("Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    await bot.api.setWebhook("https://example.com/api/telegram/webhook", { secret_token: "s3cret", allowed_updates: ["message"] });
    expect(await bot.api.getWebhookInfo()).toMatchObject({ url: "https://example.com/api/telegram/webhook", allowed_updates: ["message"] });
    expect(tg.webhook?.secretToken).toBe("s3cret");
    expect(await bot.api.getUpdates().catch((e: GrammyError) => e.error_code)).toBe(409);
    await bot.api.deleteWebhook();

    const polling = bot.api.getUpdates({ timeout: 5 });
    setTimeout(() => tg.pushUpdate(tg.updates.privateStart()), 50);
    const [update] = await polling;
    expect(update?.message?.text).toBe("/start");
    expect(await bot.api.getUpdates({ offset: (update?.update_id ?? 0) + 1, timeout: 0 })).toEqual([]);
  });

  it("builds an agent's reply update that quotes the bot's message", async () => {
    const posted = await bot.api.sendMessage(GROUP, "from user 42");
    const update = tg.updates.groupText({ chatId: GROUP, text: "answer", replyTo: posted.message_id });
    expect(update.message?.reply_to_message?.message_id).toBe(posted.message_id);
    expect(update.message?.reply_to_message?.from?.id).toBe(tg.botInfo.id);
    expect(update.message?.message_id).toBe(posted.message_id + 1);
    const photo = tg.updates.groupPhoto({ chatId: GROUP, bytes: JPEG, replyTo: posted.message_id });
    const largest = photo.message?.photo?.at(-1);
    const file = await bot.api.getFile(largest?.file_id ?? "");
    expect(file.file_size).toBe(JPEG.length);
    expect(await bot.api.sendMessage(404, "x", { reply_markup: { inline_keyboard: [[{ text: "a", callback_data: "b" }]] } })).toBeDefined();
    expect(await bot.api.raw.getChat({ chat_id: GROUP })).toMatchObject({ id: GROUP });
    expect(await bot.api.setMyCommands([{ command: "start", description: "Start" }])).toBe(true);
    const unknown = await fetch(`${tg.apiRoot}/bot${tg.token}/noSuchMethod`, { method: "POST" });
    expect([unknown.status, await unknown.json()]).toEqual([404, { ok: false, error_code: 404, description: "Not Found" }]);
  });

  it("refuses one message the same way every time it is sent, and nothing else", async () => {
    const stop = tg.refuse({ methods: ["sendMessage"], when: (p) => String(p.text).includes("bad"), code: 400, description: "Bad Request: message is too long" });
    for (let i = 0; i < 2; i++) await expect(bot.api.sendMessage(GROUP, "a bad one")).rejects.toMatchObject({ error_code: 400, description: "Bad Request: message is too long" });
    expect((await bot.api.sendMessage(GROUP, "a good one")).text).toBe("a good one");
    stop();
    expect((await bot.api.sendMessage(GROUP, "a bad one")).text).toBe("a bad one");
  });

  it("knows a public group by @username in getChat and the send methods, and says chat not found otherwise", async () => {
    tg.addPublicGroup(GROUP, "public_support");
    expect(await bot.api.getChat("@Public_Support")).toMatchObject({ id: GROUP, type: "supergroup", username: "public_support" });
    const sent = await bot.api.sendMessage("@public_support", "by username");
    expect(sent.chat.id).toBe(GROUP);
    await expect(bot.api.getChat("@nobody_here")).rejects.toMatchObject({ error_code: 400, description: "Bad Request: chat not found" });
  });

  it("keeps command lists per scope and language, with Telegram's validation", async () => {
    const admins = { type: "chat_administrators" as const, chat_id: GROUP };
    expect(await bot.api.setMyCommands([{ command: "info", description: "Кто это" }], { scope: admins })).toBe(true);
    expect(await bot.api.setMyCommands([{ command: "start", description: "Start" }])).toBe(true);
    expect(await bot.api.getMyCommands({ scope: admins })).toEqual([{ command: "info", description: "Кто это" }]);
    expect(await bot.api.getMyCommands()).toEqual([{ command: "start", description: "Start" }]);
    expect(await bot.api.getMyCommands({ scope: admins, language_code: "en" })).toEqual([]);
    expect(tg.state.commands.get(`chat_administrators:${GROUP}|`)).toEqual([{ command: "info", description: "Кто это" }]);
    const refused = async (call: Promise<unknown>) => ((await call.catch((e: unknown) => e)) as GrammyError).description;
    expect(await refused(bot.api.setMyCommands([{ command: "Info", description: "x" }]))).toBe("Bad Request: BOT_COMMAND_INVALID");
    expect(await refused(bot.api.setMyCommands([{ command: "info", description: "" }]))).toBe("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID");
    expect(await refused(bot.api.raw.setMyCommands({ commands: [], scope: { type: "chat_administrators" } as never }))).toBe("Bad Request: chat_id is empty");
    expect(await refused(bot.api.raw.setMyCommands({ commands: [], scope: { type: "everyone" } as never }))).toMatch(/BotCommandScope/);
    await bot.api.deleteMyCommands({ scope: admins });
    expect(await bot.api.getMyCommands({ scope: admins })).toEqual([]);
  });

  it("refuses a reply to a message that is not there unless allowed to send without it", async () => {
    const posted = await bot.api.sendMessage(GROUP, "post");
    const reply = await bot.api.sendMessage(GROUP, "answer", { reply_parameters: { message_id: posted.message_id } });
    expect(reply.reply_to_message?.message_id).toBe(posted.message_id);
    const error = await bot.api.sendMessage(GROUP, "x", { reply_parameters: { message_id: 9_999 } }).catch((e: unknown) => e);
    expect((error as GrammyError).description).toBe("Bad Request: message to be replied not found");
    const loose = await bot.api.sendMessage(GROUP, "x", { reply_parameters: { message_id: 9_999, allow_sending_without_reply: true } });
    expect(loose.reply_to_message).toBeUndefined();
  });

  it("marks commands as Telegram does and edits a message in place", async () => {
    const posted = await bot.api.sendMessage(GROUP, "post");
    const command = tg.updates.groupText({ chatId: GROUP, text: "/history@support_test_bot 5", replyTo: posted.message_id });
    expect(command.message?.entities).toEqual([{ type: "bot_command", offset: 0, length: 25 }]);
    expect(tg.updates.groupText({ chatId: GROUP, text: "/путь/к/файлу" }).message?.entities).toBeUndefined();
    const reply = tg.updates.groupText({ chatId: GROUP, text: "old", replyTo: posted.message_id });
    const id = reply.message?.message_id ?? 0;
    const edit = tg.updates.editText(GROUP, id, "new");
    expect(edit.edited_message).toMatchObject({ message_id: id, text: "new", reply_to_message: { message_id: posted.message_id } });
    expect(edit.edited_message?.edit_date).toBeGreaterThan(0);
    expect(tg.state.message(GROUP, id)?.text).toBe("new");
    const photo = tg.updates.groupPhoto({ chatId: GROUP, bytes: JPEG, caption: "c1", replyTo: posted.message_id });
    expect(tg.updates.editText(GROUP, photo.message?.message_id ?? 0, "c2").edited_message).toMatchObject({ caption: "c2", photo: photo.message?.photo });
  });
});

describe("setMessageReaction", () => {
  it("takes Telegram's reaction emoji and refuses others (✅) with REACTION_INVALID", async () => {
    const sent = await bot.api.sendMessage(GROUP, "a reply");
    expect(await bot.api.setMessageReaction(GROUP, sent.message_id, [{ type: "emoji", emoji: "👌" }])).toBe(true);
    expect(tg.state.reactions.get(`${GROUP}:${sent.message_id}`)).toEqual(["👌"]);
    for (const emoji of ["🤷", "👀"] as const) await bot.api.setMessageReaction(GROUP, sent.message_id, [{ type: "emoji", emoji }]);
    expect(tg.state.reactions.get(`${GROUP}:${sent.message_id}`)).toEqual(["👀"]);
    const refused = await bot.api.setMessageReaction(GROUP, sent.message_id, [{ type: "emoji", emoji: "✅" as "👌" }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GrammyError);
    expect((refused as GrammyError).error_code).toBe(400);
    expect((refused as GrammyError).description).toBe("Bad Request: REACTION_INVALID");
    const missing = await bot.api.setMessageReaction(GROUP, 99_999, [{ type: "emoji", emoji: "👌" }]).catch((e: unknown) => e);
    expect((missing as GrammyError).description).toBe("Bad Request: message to react not found");
  });
});
