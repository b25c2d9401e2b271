// The stand-in's forum topics behave as Telegram's, driven by the real
// grammY client: the thread id is the creation message's id, topic messages
// reply to that message, and deleted or closed topics are refused with
// Telegram's own texts.
import { Bot, GrammyError } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";

const FORUM = -1001234500001;
const PLAIN = -1001234500002;
let tg: TelegramStandIn;
let bot: Bot;

const refusal = (promise: Promise<unknown>) => promise.then(() => "ok", (e: unknown) => (e instanceof GrammyError ? e.description : String(e)));

beforeEach(async () => {
  tg = await startTelegramStandIn();
  bot = new Bot(tg.token, { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
  tg.addForumGroup(FORUM);
});
afterEach(async () => {
  await tg.close();
});

describe("forum topics", () => {
  it("getChat says is_forum; getChatMember gives the bot's rights", async () => {
    expect(await bot.api.getChat(FORUM)).toMatchObject({ id: FORUM, type: "supergroup", is_forum: true });
    expect((await bot.api.getChat(PLAIN)) as { is_forum?: boolean }).not.toHaveProperty("is_forum");
    expect(await bot.api.getChatMember(FORUM, tg.botInfo.id)).toMatchObject({ status: "administrator", can_manage_topics: true });
    expect((await bot.api.getChatMember(PLAIN, tg.botInfo.id)).status).toBe("member");
  });

  it("createForumTopic answers {message_thread_id, name, icon_color} and posts forum_topic_created in the thread", async () => {
    const topic = await bot.api.createForumTopic(FORUM, "Анна · u-1");
    expect(topic).toEqual({ message_thread_id: expect.any(Number), name: "Анна · u-1", icon_color: expect.any(Number) });
    const created = tg.state.message(FORUM, topic.message_thread_id);
    expect(created).toMatchObject({ message_thread_id: topic.message_thread_id, is_topic_message: true, forum_topic_created: { name: "Анна · u-1" } });
    const post = await bot.api.sendMessage(FORUM, "hi", { message_thread_id: topic.message_thread_id });
    expect(post).toMatchObject({ is_topic_message: true, message_thread_id: topic.message_thread_id, reply_to_message: { message_id: topic.message_thread_id } });
    expect(await refusal(bot.api.createForumTopic(PLAIN, "x"))).toBe("Bad Request: the chat is not a forum");
    expect(await refusal(bot.api.createForumTopic(FORUM, "x".repeat(129)))).toMatch(/^Bad Request: TOPIC_TITLE/);
  });

  it("a closed topic refuses posts with TOPIC_CLOSED until reopened; a deleted one with message thread not found", async () => {
    const { message_thread_id: thread } = await bot.api.createForumTopic(FORUM, "t");
    await bot.api.closeForumTopic(FORUM, thread);
    expect(await refusal(bot.api.closeForumTopic(FORUM, thread))).toBe("Bad Request: TOPIC_NOT_MODIFIED");
    expect(await refusal(bot.api.sendMessage(FORUM, "x", { message_thread_id: thread }))).toBe("Bad Request: TOPIC_CLOSED");
    await bot.api.reopenForumTopic(FORUM, thread);
    expect(await refusal(bot.api.sendMessage(FORUM, "x", { message_thread_id: thread }))).toBe("ok");
    await bot.api.deleteForumTopic(FORUM, thread);
    expect(await refusal(bot.api.sendMessage(FORUM, "x", { message_thread_id: thread }))).toBe("Bad Request: message thread not found");
    expect(await refusal(bot.api.sendMessage(FORUM, "x", { message_thread_id: 999_999 }))).toBe("Bad Request: message thread not found");
  });

  it("without \"Manage topics\" the bot cannot make topics", async () => {
    tg.addForumGroup(PLAIN, { status: "administrator", can_manage_topics: false });
    expect(await refusal(bot.api.createForumTopic(PLAIN, "x"))).toBe("Bad Request: not enough rights to manage topics");
  });

  it("an agent's message in a topic arrives as Telegram sends it: is_topic_message, the thread, the creation message as reply_to_message", async () => {
    const { message_thread_id: thread } = await bot.api.createForumTopic(FORUM, "t");
    const update = tg.updates.groupText({ chatId: FORUM, text: "hello", threadId: thread });
    expect(update.message).toMatchObject({ is_topic_message: true, message_thread_id: thread, reply_to_message: { message_id: thread, from: { id: tg.botInfo.id } } });
  });
});
