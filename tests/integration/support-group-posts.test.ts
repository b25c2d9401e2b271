// User → group: what the real grammY client sends to a Telegram Bot API
// stand-in for each kind of user message, and what /send_message answers.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { makePng } from "../fixtures/images.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

const GROUP = -1001234567890;


let tg: TelegramStandIn;
let t: TestApp;
let seq = 0;
const uniqueUser = () => `grp-${Date.now()}-${++seq}`;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: { ...tg.envFor(GROUP), PUBLIC_WEBAPP_URL: "https://support.example.com/" },
    botInfo: tg.botInfo,
    // Pacing has its own test; here it must not slow the suite down.
    pacerLimits: { perGroup: 1000, perGroupWindowMs: 60_000, overall: 1000, overallWindowMs: 1000 },
  });
});
afterAll(async () => {
  await t.close();
  await tg.close();
});
afterEach(() => {
  tg.clearFaults();
  tg.setDown(false);
  tg.setDelay(0);
});

async function mappedUser(telegramId: number): Promise<string | undefined> {
  const row = await t.app.db.sql.get<{ user_id: string }>("SELECT user_id FROM message_mapping WHERE chat_id = ? AND telegram_message_id = ?", [GROUP, telegramId]);
  return row?.user_id;
}

describe("text", () => {
  test("goes to the group with the user's name and id and reads literally", async () => {
    const user = uniqueUser();
    const text = "Не работает *оплата* _снова_ [ссылка](http://x) <b>жирный</b> `код` \\ & < >";
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, user_name: "Мария", message: text });
    expect(res.status).toBe(200);
    expect(res.body.delivery).toBe("sent");
    expect(res.body.message_id).toEqual(expect.any(Number));
    const call = tg.callsTo("sendMessage").at(-1);
    expect(call?.ok).toBe(true);
    expect(call?.params.parse_mode).toBeUndefined();
    const posted = String(call?.params.text);
    expect(posted).toContain("Мария");
    expect(posted).toContain(`ID: ${user}`);
    expect(posted.endsWith(text)).toBe(true);
    expect(call?.messageIds).toEqual([res.body.message_id]);
    expect(await mappedUser(res.body.message_id as number)).toBe(user);
    const history = await requestJson<{ messages: { id: number }[] }>(`${t.url}/message_history/${user}`);
    expect(history.body.messages.map((m) => m.id)).toContain(res.body.id);
  });

  test("longer than 4096 characters is split, nothing cut, every piece mapped", async () => {
    const user = uniqueUser();
    const words = Array.from({ length: 1500 }, (_, i) => `слово${i}`).join(" ");
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: words });
    expect(res.body.delivery).toBe("sent");
    const pieces = tg.sent(GROUP).filter((m) => m.message_id >= (res.body.message_id as number));
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    for (const piece of pieces) {
      expect(piece.text?.length).toBeLessThanOrEqual(4096);
      expect(await mappedUser(piece.message_id)).toBe(user);
    }
    // Each piece is a header line or two, a blank line, then the text.
    const bodies = pieces.map((p) => (p.text ?? "").slice((p.text ?? "").indexOf("\n\n") + 2));
    expect(bodies.join("")).toBe(words);
  });
});

describe("photos", () => {
  test("one uploaded photo goes as a file upload with the text as caption", async () => {
    const png = makePng(6, 6);
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: uniqueUser(), user_name: "Пётр", message: "Вот скриншот" }, [{ bytes: png, name: "s.png" }]),
    });
    expect(res.body).toMatchObject({ delivery: "sent", photo_count: 1 });
    const call = tg.callsTo("sendPhoto").at(-1);
    expect(call?.media[0]?.source).toBe("upload");
    // A photo within sendPhoto's limits goes as stored: the very file the app is served.
    const served = Buffer.from(await (await fetch(`${t.url}${res.body.photo_url}`)).arrayBuffer());
    expect(call?.media[0]?.bytes?.equals(served)).toBe(true);
    expect(String(call?.params.caption)).toContain("Вот скриншот");
    expect(call?.messageIds).toEqual([res.body.message_id]);
  });

  test("several photos go as one media group; message_id is the first item's", async () => {
    const user = uniqueUser();
    const photos = [makePng(2, 2), makePng(3, 3), makePng(4, 4)].map((bytes, i) => ({ bytes, name: `${i}.png` }));
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, message: "три фото" }, photos) });
    expect(res.body).toMatchObject({ delivery: "sent", photo_count: 3 });
    const call = tg.callsTo("sendMediaGroup").at(-1);
    expect(call?.media.map((m) => m.source)).toEqual(["upload", "upload", "upload"]);
    expect(call?.messageIds).toHaveLength(3);
    expect(res.body.message_id).toBe(call?.messageIds[0]);
    for (const id of call?.messageIds ?? []) expect(await mappedUser(id)).toBe(user);
  });

  test("a caption that does not fit goes as its own message before the photo", async () => {
    const text = "Длинное описание. ".repeat(80);
    const res = await requestJson<SendAnswer>(`${t.url}/send_message`, {
      method: "POST",
      body: photoForm({ user_id: uniqueUser(), message: text }, [{ bytes: makePng(), name: "a.png" }]),
    });
    expect(res.body.delivery).toBe("sent");
    const textCall = tg.callsTo("sendMessage").at(-1);
    const photoCall = tg.callsTo("sendPhoto").at(-1);
    expect(String(textCall?.params.text)).toContain(text.trim());
    expect(String(photoCall?.params.caption).length).toBeLessThanOrEqual(1024);
    expect(res.body.message_id).toBe(textCall?.messageIds[0]);
  });

  test("a JSON photo_url goes to Telegram by URL", async () => {
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: uniqueUser(), message: "по ссылке", photo_url: "https://cdn.example.com/a.jpg" });
    expect(res.body).toMatchObject({ delivery: "sent", photo_url: "https://cdn.example.com/a.jpg" });
    const call = tg.callsTo("sendPhoto").at(-1);
    expect(call?.media[0]).toMatchObject({ source: "url", url: "https://cdn.example.com/a.jpg" });
  });

  test("a photo_url Telegram cannot fetch still delivers the text with the link", async () => {
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: uniqueUser(), message: "битая ссылка", photo_url: "https://broken.invalid/a.jpg" });
    expect(res.body.delivery).toBe("sent");
    const failed = tg.callsTo("sendPhoto").at(-1);
    expect(failed?.ok).toBe(false);
    const text = tg.callsTo("sendMessage").at(-1);
    expect(String(text?.params.text)).toContain("битая ссылка");
    expect(String(text?.params.text)).toContain("https://broken.invalid/a.jpg");
    expect(res.body.message_id).toBe(text?.messageIds[0]);
  });
});

describe("when Telegram is in trouble", () => {
  test("a 429 answers queued at once and delivers after retry_after", async () => {
    const user = uniqueUser();
    tg.failNext(1, { kind: "retry-after", seconds: 1 }, ["sendMessage"]);
    const started = Date.now();
    const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: "после паузы" });
    expect(res.body).toMatchObject({ delivery: "queued", message_id: null });
    expect(Date.now() - started).toBeLessThan(1000);
    await expect.poll(() => tg.sent(GROUP).some((m) => m.text?.endsWith("после паузы")), { timeout: 5000 }).toBe(true);
    // Telegram has the post before our commit of its delivery: wait for the commit.
    const delivered = () => t.app.db.sql.get<{ delivery: string; tid: number }>("SELECT delivery, telegram_message_id AS tid FROM messages WHERE id = ?", [res.body.id]);
    await expect.poll(async () => (await delivered())?.delivery).toBe("sent");
    expect(await mappedUser((await delivered())?.tid as number)).toBe(user);
  });

  test("an outage answers queued; everything arrives once, in order, when it ends", async () => {
    tg.setDown(true);
    const user = uniqueUser();
    const answers: SendAnswer[] = [];
    for (let i = 0; i < 5; i++) answers.push((await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: `по порядку ${i}` })).body);
    expect(answers.every((a) => a.delivery === "queued")).toBe(true);
    await expect.poll(async () => (await requestJson<{ queue: { depth: number; last_error: string | null } }>(`${t.url}/health`)).body.queue.last_error).not.toBeNull();
    expect((await requestJson<{ queue: { depth: number } }>(`${t.url}/health`)).body.queue.depth).toBeGreaterThanOrEqual(5);
    tg.setDown(false);
    t.app.groupDelivery.kick();
    await expect.poll(() => tg.sent(GROUP).filter((m) => m.text?.includes("по порядку")).length, { timeout: 10_000 }).toBe(5);
    const texts = tg.sent(GROUP).filter((m) => m.text?.includes("по порядку")).map((m) => m.text?.slice(-11));
    expect(texts).toEqual(["по порядку 0", "по порядку 1", "по порядку 2", "по порядку 3", "по порядку 4"].map((s) => s.slice(-11)));
  });
});
