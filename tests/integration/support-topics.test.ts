// Topic mode (SPEC §7): one forum topic per app user. The real service with
// the Telegram stand-in acting as a forum supergroup; Updates shaped as
// Telegram sends them in topics (is_topic_message, message_thread_id, and
// the topic's creation message as reply_to_message).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Message, User } from "grammy/types";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../server/logger.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import { makePng } from "../fixtures/images.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { History, SendAnswer } from "../fixtures/wire.js";
import { pause, startDesk, type Desk } from "./desk-setup.js";

const GROUP = -1005550009999;
const OTHER_BOT: User = { id: 8_800_000_002, is_bot: true, first_name: "Other bot", username: "other_topic_bot" };
const TOPICS_ON = { SUPPORT_TOPICS: "on" };

async function until<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(25);
  }
}

type Health = { topics: { enabled: boolean; reason: string | null } };
const health = async (d: Desk) => (await requestJson<Health>(`${d.t.url}/health`)).body;
const history = async (d: Desk, userId: string) => (await requestJson<History>(`${d.t.url}/message_history/${userId}?limit=200`)).body.messages;
const topicsOf = (tg: TelegramStandIn, userId: string) => tg.topics(GROUP).filter((t) => t.name.endsWith(` · ${userId}`));
/** The bot's posts in a topic (not its service messages), in order. */
const postsIn = (tg: TelegramStandIn, threadId: number) => tg.sent(GROUP).filter((m) => m.message_thread_id === threadId && (m.text ?? m.caption) !== undefined);

async function say(d: Desk, userId: string, text: string, userName?: string): Promise<SendAnswer> {
  const res = await postJson<SendAnswer>(`${d.t.url}/send_message`, { user_id: userId, message: text, ...(userName ? { user_name: userName } : {}) });
  expect(res.status).toBe(200);
  return res.body;
}

/** Waits until the user's message `text` is in the group; returns that post. */
const posted = (d: Desk, text: string) => until(`the post "${text}"`, () => d.tg.sent(GROUP).find((m) => m.text?.endsWith(`\n\n${text}`)));

async function inTopic(d: Desk, threadId: number, text: string, extra: { replyTo?: number; from?: User } = {}): Promise<Message[]> {
  const update = d.tg.updates.groupText({ chatId: GROUP, text, threadId, ...extra });
  const id = (update as { message: Message }).message.message_id;
  expect((await d.webhook(update)).status).toBe(200);
  return d.tg.sent(GROUP).filter((m) => m.reply_to_message?.message_id === id);
}

const enabled = (d: Desk) => until("topic mode on", async () => (await health(d)).topics.enabled);

describe("the start check", () => {
  test("a forum where the bot may manage topics: topic mode is on", async () => {
    const d = await startDesk(GROUP, { env: TOPICS_ON, prepare: (tg) => tg.addForumGroup(GROUP) });
    try {
      await enabled(d);
      expect((await health(d)).topics).toEqual({ enabled: true, reason: null });
      expect(d.tg.callsTo("getChatMember")[0]?.params.user_id).toBe(d.tg.botInfo.id);
    } finally {
      await d.close();
    }
  });

  test("a group that is no forum: reply mode, and /health and one log line say why", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", secrets: [], destination: { write: (line: string) => void lines.push(line) } });
    const d = await startDesk(GROUP, { env: TOPICS_ON, logger });
    try {
      await until("the check", () => d.tg.callsTo("getChat").length > 0);
      const topics = await until("a reason", async () => {
        const t = (await health(d)).topics;
        return t.reason?.includes("not a forum") ? t : null;
      });
      expect(topics.enabled).toBe(false);
      expect(topics.reason).toMatch(/Topics/);
      const said = lines.filter((l) => l.includes("SUPPORT_TOPICS=on but topics cannot be used"));
      expect(said).toHaveLength(1);
      // posts go as in reply mode, with no topic
      const answer = await say(d, "no-forum-1", "Привет");
      expect(answer.delivery).toBe("sent");
      expect(d.tg.callsTo("createForumTopic")).toEqual([]);
      expect((await posted(d, "Привет")).message_thread_id).toBeUndefined();
    } finally {
      await d.close();
    }
  });

  test("an administrator without \"Manage topics\": reply mode, the reason names the right", async () => {
    const d = await startDesk(GROUP, { env: TOPICS_ON, prepare: (tg) => tg.addForumGroup(GROUP, { status: "administrator", can_manage_topics: false }) });
    try {
      const topics = await until("a reason", async () => {
        const t = (await health(d)).topics;
        return t.reason?.includes("Manage topics") ? t : null;
      });
      expect(topics.enabled).toBe(false);
    } finally {
      await d.close();
    }
  });

  test("Telegram down at start: start-up is not held, reply mode meanwhile, topic mode once Telegram answers", async () => {
    const tg = await startTelegramStandIn();
    tg.addForumGroup(GROUP);
    tg.setDown(true);
    const d = await startDesk(GROUP, { env: TOPICS_ON, tg });
    try {
      expect((await health(d)).topics.enabled).toBe(false);
      await until("a failed check", () => d.tg.callsTo("getChat").length > 0);
      tg.setDown(false);
      await enabled(d);
    } finally {
      await d.close();
      await tg.close();
    }
  });
});

describe("one topic per user", () => {
  let d: Desk;
  beforeAll(async () => {
    d = await startDesk(GROUP, { env: TOPICS_ON, prepare: (tg) => tg.addForumGroup(GROUP) });
    await enabled(d);
  });
  afterAll(async () => {
    await d.close();
  });

  test("20 concurrent first messages of one user: exactly one topic, every post in it, in order", async () => {
    const user = "topic-burst-1";
    const texts = Array.from({ length: 20 }, (_, i) => `сообщение ${i + 1}`);
    const answers = await Promise.all(texts.map((text) => say(d, user, text, "Анна")));
    await until("all 20 posts", () => d.tg.sent(GROUP).filter((m) => m.text?.includes(`ID: ${user}`)).length === 20);
    const topics = topicsOf(d.tg, user);
    expect(topics).toHaveLength(1);
    expect(topics[0]?.name).toBe(`Анна · ${user}`);
    const posts = postsIn(d.tg, topics[0]?.threadId as number);
    expect(posts).toHaveLength(20);
    // in the order the service accepted them
    const inGroup = posts.map((m) => m.text?.split("\n\n").at(-1));
    const byId = new Map((await history(d, user)).filter((m) => m.direction === "user").map((m) => [m.id, m.message]));
    expect(inGroup).toEqual([...answers].sort((a, b) => a.id - b.id).map((a) => byId.get(a.id)));
    // each post is a topic message that Telegram shows replying to the creation message
    expect(posts.every((m) => m.is_topic_message === true && m.reply_to_message?.message_id === topics[0]?.threadId)).toBe(true);
  });

  test("an album goes into the user's topic as one media group; an agent's photo there reaches the user", async () => {
    const user = "topic-album-1";
    const photos = [makePng(6, 6, [10, 200, 10]), makePng(7, 7, [10, 10, 200])].map((bytes, i) => ({ bytes, name: `p${i}.png`, type: "image/png" }));
    const res = await requestJson<SendAnswer>(`${d.t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, message: "два фото" }, photos) });
    expect(res.status).toBe(200);
    const topic = await until("the topic", () => topicsOf(d.tg, user)[0]);
    const items = await until("the album", () => {
      const inTopic = d.tg.sent(GROUP).filter((m) => m.message_thread_id === topic.threadId && m.photo);
      return inTopic.length === 2 ? inTopic : null;
    });
    expect(new Set(items.map((m) => m.media_group_id)).size).toBe(1);
    // multipart: every parameter arrives as text
    expect(Number(d.tg.callsTo("sendMediaGroup").at(-1)?.params.message_thread_id)).toBe(topic.threadId);

    const update = d.tg.updates.groupPhoto({ chatId: GROUP, bytes: makePng(9, 9), caption: "вот так", threadId: topic.threadId });
    expect((await d.webhook(update)).status).toBe(200);
    const reply = (await history(d, user)).find((m) => m.direction === "support" && m.message === "вот так");
    expect(reply?.photo_url).toBeTruthy();
  });

  test("a long name is cut, the name first, the id kept whole; no name: Пользователь", async () => {
    await say(d, "topic-name-1", "x", "Я".repeat(200));
    await say(d, "topic-name-2", "y");
    const long = await until("the topic", () => topicsOf(d.tg, "topic-name-1")[0]);
    expect(long.name.length).toBe(128);
    expect(long.name.endsWith("… · topic-name-1")).toBe(true);
    expect((await until("the topic", () => topicsOf(d.tg, "topic-name-2")[0])).name).toBe("Пользователь · topic-name-2");
  });

  test("a deleted topic: a new one is made and the post arrives there", async () => {
    const user = "topic-deleted-1";
    await say(d, user, "первое");
    const first = await until("the topic", () => topicsOf(d.tg, user)[0]);
    d.tg.deleteTopic(GROUP, first.threadId);
    const answer = await say(d, user, "второе");
    const post = await posted(d, "второе");
    const [, second] = topicsOf(d.tg, user);
    expect(second).toBeDefined();
    expect(post.message_thread_id).toBe(second?.threadId);
    expect(answer.delivery).toBe("sent");
    // Telegram refused the first try with its own words
    expect(d.tg.calls.some((c) => c.description === "Bad Request: message thread not found")).toBe(true);
    // the agent answers in the new topic and the user gets it
    await inTopic(d, second?.threadId as number, "Мы здесь");
    expect((await history(d, user)).some((m) => m.direction === "support" && m.message === "Мы здесь")).toBe(true);
  });

  test("a topic closed in Telegram's menu: reopened, then the post arrives, in order", async () => {
    const user = "topic-closed-1";
    await say(d, user, "до");
    const topic = await until("the topic", () => topicsOf(d.tg, user)[0]);
    const closed = d.tg.closeTopic(GROUP, topic.threadId);
    expect((await d.webhook(closed)).status).toBe(200);
    await say(d, user, "после 1");
    await say(d, user, "после 2");
    await posted(d, "после 2");
    expect(d.tg.calls.some((c) => c.description === "Bad Request: TOPIC_CLOSED")).toBe(true);
    expect(d.tg.callsTo("reopenForumTopic").filter((c) => c.ok)).toHaveLength(1);
    expect(topicsOf(d.tg, user)).toHaveLength(1);
    expect(postsIn(d.tg, topic.threadId).map((m) => m.text?.split("\n\n").at(-1))).toEqual(["до", "после 1", "после 2"]);
    // Telegram's service message about the closing reached no one
    expect((await history(d, user)).filter((m) => m.direction === "support" && !m.message.startsWith("Здравствуйте"))).toEqual([]);
  });
});

describe("routing in topics", () => {
  let d: Desk;
  let thread: number;
  const user = "topic-route-1";
  const supportTexts = async () => (await history(d, user)).filter((m) => m.direction === "support").map((m) => m.message);

  beforeAll(async () => {
    d = await startDesk(GROUP, { env: TOPICS_ON, prepare: (tg) => tg.addForumGroup(GROUP) });
    await enabled(d);
    await say(d, user, "Помогите", "Олег");
    thread = (await until("the topic", () => topicsOf(d.tg, user)[0])).threadId;
  });
  afterAll(async () => {
    await d.close();
  });

  test("an agent's plain message in the user's topic is a support message for that user, and so is a reply there", async () => {
    const before = (await supportTexts()).length;
    await inTopic(d, thread, "Просто пишу в тему");
    const post = await posted(d, "Помогите");
    await inTopic(d, thread, "Отвечаю на пост", { replyTo: post.message_id });
    const texts = await supportTexts();
    expect(texts.slice(before)).toEqual(["Просто пишу в тему", "Отвечаю на пост"]);
  });

  test("the other desk features work in the topic without replies: an agent's album, an edit, the delivery reaction", async () => {
    const png = (n: number) => makePng(n + 2, 3, [n * 40, 20, 20]);
    const before = (await history(d, user)).length;
    const album = `topic-album-${Date.now()}`;
    const items = [1, 2, 3].map((n) => d.tg.updates.groupPhoto({ chatId: GROUP, bytes: png(n), threadId: thread, mediaGroupId: album, ...(n === 1 ? { caption: "Три фото в теме" } : {}) }));
    for (const item of items) expect((await d.webhook(item)).status).toBe(200);
    const delivered = await until("the album as one message", async () => (await history(d, user)).slice(before).find((m) => m.message === "Три фото в теме"));
    expect(delivered.photo_urls).toHaveLength(3);
    expect((await history(d, user)).slice(before)).toHaveLength(1);

    const plain = d.tg.updates.groupText({ chatId: GROUP, text: "Сначала так", threadId: thread });
    const plainId = (plain as { message: Message }).message.message_id;
    expect((await d.webhook(plain)).status).toBe(200);
    expect((await d.webhook(d.tg.updates.editText(GROUP, plainId, "А теперь так")))).toMatchObject({ status: 200 });
    const edited = await until("the edit", async () => (await history(d, user)).find((m) => m.message === "А теперь так"));
    expect(edited.edited_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // Nobody is connected and no device is registered: the agent sees 🤷 on their message in the topic.
    await until("the reaction", () => d.tg.state.reactions.get(`${GROUP}:${plainId}`)?.[0] === "🤷");
  });

  test("a note, an unknown command, a bot's message and a service message in the topic reach no user", async () => {
    const before = await supportTexts();
    await inTopic(d, thread, "// коллегам: это постоянный клиент");
    await inTopic(d, thread, "/whatever");
    await inTopic(d, thread, "я бот", { from: OTHER_BOT });
    const edited = d.tg.updates.forumService(GROUP, thread, { forum_topic_edited: { name: "VIP" } } as Partial<Message>);
    expect((await d.webhook(edited)).status).toBe(200);
    expect(await supportTexts()).toEqual(before);
  });

  test("General and a topic that belongs to no user reach no user, though Telegram shows them replying to the bot", async () => {
    const before = await supportTexts();
    // General: no thread, no reply
    expect((await d.webhook(d.tg.updates.groupText({ chatId: GROUP, text: "в General" }))).status).toBe(200);
    // a topic the bot made that is no user's (its creation message is the bot's)
    const res = await fetch(`${d.tg.apiRoot}/bot${d.tg.token}/createForumTopic`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: GROUP, name: "Дежурства" }),
    });
    const { result } = (await res.json()) as { result: { message_thread_id: number } };
    const messages = await inTopic(d, result.message_thread_id, "в чужой теме");
    expect(messages).toEqual([]);
    const last = d.tg.state.message(GROUP, d.tg.state.peekMessageId(GROUP) - 1);
    expect(last?.reply_to_message?.from?.id).toBe(d.tg.botInfo.id);
    expect(await supportTexts()).toEqual(before);
  });

  test("/info in General or in a topic of no user finds no user and says how to use it", async () => {
    const loose = await d.webhook(d.tg.updates.groupText({ chatId: GROUP, text: "/info" }));
    expect(loose.status).toBe(200);
    const usage = d.tg.sent(GROUP).at(-1);
    expect(usage?.text).toMatch(/в теме пользователя или ответом на его сообщение/);
    expect(usage?.text).not.toContain(user);
  });

  test("/info inside the topic answers about the topic's user, in the topic", async () => {
    const answers = await inTopic(d, thread, "/info");
    expect(answers).toHaveLength(1);
    expect(answers[0]?.text).toContain(`Олег · ${user}`);
    expect(answers[0]?.message_thread_id).toBe(thread);
  });

  test("/close inside the topic closes it; the user's next message reopens it and arrives there", async () => {
    const answers = await inTopic(d, thread, "/close");
    expect(answers[0]?.message_thread_id).toBe(thread);
    expect(d.tg.topics(GROUP).find((t) => t.threadId === thread)?.state).toBe("closed");
    await say(d, user, "снова я");
    const post = await posted(d, "снова я");
    expect(post.message_thread_id).toBe(thread);
    expect(d.tg.topics(GROUP).find((t) => t.threadId === thread)?.state).toBe("open");
    expect(d.tg.callsTo("reopenForumTopic").filter((c) => c.ok)).toHaveLength(1);
  });
});

describe("rights taken away after the check", () => {
  test("Telegram refuses createForumTopic: the post goes out in reply mode and /health says why", async () => {
    const d = await startDesk(GROUP, { env: TOPICS_ON, prepare: (tg) => tg.addForumGroup(GROUP) });
    try {
      await enabled(d);
      d.tg.state.members.set(`${GROUP}:${d.tg.botInfo.id}`, { status: "member" });
      const answer = await say(d, "topic-rights-1", "есть кто?");
      expect(answer.delivery).toBe("sent");
      expect((await posted(d, "есть кто?")).message_thread_id).toBeUndefined();
      const topics = (await health(d)).topics;
      expect(topics.enabled).toBe(false);
      expect(topics.reason).toContain("createForumTopic");
      // and an agent's reply to that post still reaches the user (reply mode)
      const post = await posted(d, "есть кто?");
      const { item } = await d.agentReplies("topic-rights-1", post.message_id, "Да, слушаю");
      expect(item.direction).toBe("support");
    } finally {
      await d.close();
    }
  });
});

describe("a restart between topic creation and the first post", () => {
  test("Telegram made the topic but the answer never reached us: after a restart, one topic in use and every post in it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "topics-restart-"));
    const tg = await startTelegramStandIn();
    tg.addForumGroup(GROUP);
    const user = "topic-restart-1";
    try {
      // The service's own wait (3 s): the retry after the lost answer comes later.
      const first = await startDesk(GROUP, { env: TOPICS_ON, tg, dir, sendWaitMs: 3_000 });
      await enabled(first);
      // The topic is made, then the connection drops before the answer: the
      // window between Telegram's answer and our commit.
      tg.failNext(1, { kind: "network-after" }, ["createForumTopic"]);
      const answer = await say(first, user, "первое");
      expect(answer.delivery).toBe("queued");
      await until("the topic Telegram made", () => tg.callsTo("createForumTopic").length === 1);
      await first.close();

      const second = await startDesk(GROUP, { env: TOPICS_ON, tg, dir });
      try {
        await enabled(second);
        await say(second, user, "второе");
        await posted(second, "второе");
        await posted(second, "первое");
        const made = topicsOf(tg, user);
        // at most one orphan (empty), never two in use
        expect(made.length).toBeLessThanOrEqual(2);
        const rows = await second.t.app.db.sql.all<{ thread: number }>(
          "SELECT message_thread_id AS thread FROM support_topics WHERE chat_id = ? AND user_id = ? AND state != 'gone'",
          [String(GROUP), user],
        );
        expect(rows).toHaveLength(1);
        const inUse = rows[0]?.thread as number;
        expect(postsIn(tg, inUse).map((m) => m.text?.split("\n\n").at(-1))).toEqual(["первое", "второе"]);
        for (const orphan of made.filter((t) => t.threadId !== inUse)) expect(postsIn(tg, orphan.threadId)).toEqual([]);
      } finally {
        await second.close();
      }
    } finally {
      await tg.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
