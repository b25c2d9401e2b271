// Agents' albums and media the app cannot show (SPEC §7), reply mode, on
// real parts: each album item is its own Update posted to the real webhook
// (as Telegram sends them, interleaved with other messages), photos fetched
// from the Telegram stand-in, the result read over REST and a socket.
import type { Message, Update } from "grammy/types";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makePng } from "../fixtures/images.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { startFcmStandIn, writeFakeServiceAccount } from "../fixtures/fcm-stand-in.js";
import { DEFAULT_AGENT, startTelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp } from "../fixtures/test-app.js";
import type { ChatItem, History, SendAnswer } from "../fixtures/wire.js";
import { pause, record, SECRET, startDesk, type Desk } from "./desk-setup.js";

const GROUP = -1005550004444;
const OTHER_AGENT = { id: 7003, is_bot: false, first_name: "Second agent" };
let d: Desk;

beforeAll(async () => {
  d = await startDesk(GROUP);
});
afterAll(async () => {
  await d.close();
});

const history = async (url: string, userId: string) => (await requestJson<History>(`${url}/message_history/${userId}?limit=200`)).body.messages;
const supportItems = async (url: string, userId: string) => (await history(url, userId)).filter((m) => m.direction === "support" && !m.message.startsWith("Здравствуйте"));
const messageOf = (update: Update) => (update as { message: Message }).message;
// each photo its own width, so the order survives the store re-encoding it
const png = (n: number) => makePng(n + 1, 4, [n, 10, 10]);
const widthOf = async (url: string) => (await sharp(Buffer.from(await (await fetch(url)).arrayBuffer())).metadata()).width;

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out waiting");
    await pause(50);
  }
}

describe("agents' albums", () => {
  test("a 3-photo album arriving interleaved with another agent's reply becomes one message with the photos in order", async () => {
    const user = "album-user-1";
    const other = "album-user-2";
    const socket = await d.joinedSocket(user);
    const events = record<ChatItem>(socket, "new_message");
    await postJson(`${d.t.url}/register_device`, { user_id: user, fcm_token: "album-token-1", platform: "android" });
    const post = await d.userSays(user, "Пришлите схему");
    const otherPost = await d.userSays(other, "А мне?");
    const pushesBefore = d.fcm.delivered().length;

    const group = "13579246801357";
    const first = d.tg.updates.groupPhoto({ chatId: GROUP, bytes: png(1), caption: "Вот схема, три листа", replyTo: post.message_id as number, mediaGroupId: group });
    const second = d.tg.updates.groupPhoto({ chatId: GROUP, bytes: png(2), replyTo: post.message_id as number, mediaGroupId: group });
    const interleaved = d.tg.updates.groupText({ chatId: GROUP, text: "Сейчас пришлю", replyTo: otherPost.message_id as number, from: OTHER_AGENT });
    const third = d.tg.updates.groupPhoto({ chatId: GROUP, bytes: png(3), replyTo: post.message_id as number, mediaGroupId: group });
    // Telegram does not promise the order of updates: the third item comes before the second.
    for (const update of [first, interleaved, third, second]) expect((await d.webhook(update)).status).toBe(200);
    const lastAnswered = Date.now();

    const [album] = await waitFor(async () => {
      const items = await supportItems(d.t.url, user);
      return items.length > 0 ? items : undefined;
    });
    // each item's request answered once its row was kept; the album went out
    // on its own, a quiet time after the last item (not inside a request)
    expect(Date.now() - lastAnswered).toBeGreaterThanOrEqual(1_000);
    expect(album?.message).toBe("Вот схема, три листа");
    expect(album?.photo_urls).toHaveLength(3);
    expect(album?.photo_url).toBe(album?.photo_urls[0]);
    // in message_id order: the bytes of item 1, 2, 3
    expect(await Promise.all((album?.photo_urls ?? []).map((u) => widthOf(`${d.t.url}${u}`)))).toEqual([2, 3, 4]);
    // the other agent's reply went to the other user, by itself
    expect((await supportItems(d.t.url, other)).map((m) => m.message)).toEqual(["Сейчас пришлю"]);

    await pause(2_000);
    expect(await supportItems(d.t.url, user)).toHaveLength(1);
    expect(events.filter((e) => e.direction === "support" && !e.message.startsWith("Здравствуйте"))).toHaveLength(1);
    expect(d.fcm.delivered().length - pushesBefore).toBe(1);
    expect(messageOf(first).message_id).toBeLessThan(messageOf(third).message_id);

    // a late item of the delivered album is not a second message
    const late = d.tg.updates.groupPhoto({ chatId: GROUP, bytes: png(4), replyTo: post.message_id as number, mediaGroupId: group });
    expect((await d.webhook(late)).status).toBe(200);
    await pause(2_000);
    expect(await supportItems(d.t.url, user)).toHaveLength(1);
  });

  test("an album of images sent as files counts as photos", async () => {
    const user = "album-user-3";
    const post = await d.userSays(user, "Фото документов?");
    const group = "24680135792468";
    for (const r of [5, 6]) {
      const update = d.tg.updates.groupMedia({ chatId: GROUP, kind: "document", mimeType: "image/png", bytes: png(r), replyTo: post.message_id as number, mediaGroupId: group });
      expect((await d.webhook(update)).status).toBe(200);
    }
    const [album] = await waitFor(async () => {
      const items = await supportItems(d.t.url, user);
      return items.length > 0 ? items : undefined;
    });
    expect(album?.photo_urls).toHaveLength(2);
  });
});

describe("media the app cannot show", () => {
  for (const kind of ["video", "voice", "sticker", "document"] as const) {
    test(`a ${kind} is not delivered and the agent is told once, in a reply`, async () => {
      const user = `media-${kind}`;
      const post = await d.userSays(user, "Покажите");
      const update = d.tg.updates.groupMedia({ chatId: GROUP, kind, replyTo: post.message_id as number, caption: kind === "video" ? "видео" : undefined });
      const id = messageOf(update).message_id;
      expect((await d.webhook(update)).status).toBe(200);
      const notices = d.tg.sent(GROUP).filter((m) => m.reply_to_message?.message_id === id);
      expect(notices).toHaveLength(1);
      expect(notices[0]?.text).toMatch(/только текст и фото.*не доставлено/);
      expect(await supportItems(d.t.url, user)).toEqual([]);
    });
  }

  test("an album of two videos: no message for the user, one notice", async () => {
    const user = "media-video-album";
    const post = await d.userSays(user, "Видео?");
    const group = "99990000111122";
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      const update = d.tg.updates.groupMedia({ chatId: GROUP, kind: "video", replyTo: post.message_id as number, mediaGroupId: group });
      ids.push(messageOf(update).message_id);
      expect((await d.webhook(update)).status).toBe(200);
    }
    await pause(2_500);
    const notices = d.tg.sent(GROUP).filter((m) => ids.includes(m.reply_to_message?.message_id ?? -1));
    expect(notices).toHaveLength(1);
    expect(await supportItems(d.t.url, user)).toEqual([]);
  });
});

test("a restart in the middle of an album still delivers it, once", async () => {
  const tg = await startTelegramStandIn();
  const account = writeFakeServiceAccount({ projectId: "album-restart" });
  const fcm = await startFcmStandIn({ projectId: "album-restart" });
  const env = {
    BOT_TOKEN: tg.token,
    GROUP_CHAT_ID: String(GROUP),
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_MODE: "webhook",
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    FCM_SERVICE_ACCOUNT_PATH: account.path,
  };
  const start = (dir?: string) => startTestApp({ env, dir, botInfo: tg.botInfo, pushTransport: fcm.transport });
  const webhook = (url: string, update: unknown) =>
    fetch(`${url}/api/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET }, body: JSON.stringify(update) });
  const user = "album-restart-user";
  let first = await start();
  const dir = first.dir;
  try {
    await postJson(`${first.url}/register_device`, { user_id: user, fcm_token: "restart-token", platform: "ios" });
    const post = (await postJson<SendAnswer>(`${first.url}/send_message`, { user_id: user, message: "Жду фото" })).body;
    const group = "55550000333311";
    const item = (r: number) => tg.updates.groupPhoto({ chatId: GROUP, bytes: png(r), caption: r === 1 ? "до и после" : undefined, replyTo: post.message_id as number, mediaGroupId: group, from: DEFAULT_AGENT });
    const one = item(1);
    const two = item(2);
    const three = item(3);
    expect((await webhook(first.url, one)).status).toBe(200);
    expect((await webhook(first.url, two)).status).toBe(200);
    // stopped before the album was quiet: nothing delivered yet
    await first.app.close(5_000);
    first = await start(dir);
    expect((await webhook(first.url, three)).status).toBe(200);
    const items = await waitFor(async () => {
      const found = await supportItems(first.url, user);
      return found.length > 0 ? found : undefined;
    });
    expect(items).toHaveLength(1);
    expect(items[0]?.photo_urls).toHaveLength(3);
    expect(items[0]?.message).toBe("до и после");
    // a second restart re-delivers nothing
    await first.app.close(5_000);
    first = await start(dir);
    await pause(2_000);
    expect(await supportItems(first.url, user)).toHaveLength(1);
    expect(fcm.delivered()).toHaveLength(1);
  } finally {
    await first.close();
    const { rmSync } = await import("node:fs");
    rmSync(dir, { recursive: true, force: true });
    await fcm.close();
    await tg.close();
    account.cleanup();
  }
});
