// A photo Telegram's sendPhoto would refuse (sides adding up to more than
// 10000, a ratio over 20) still reaches the group as a photo, never as a
// link: the group gets a copy within the limits, the app keeps the photo
// as it was sent.
import sharp from "sharp";
import { afterAll, beforeAll, expect, test } from "vitest";
import { plainJpeg } from "../fixtures/images.js";
import { photoForm, requestJson } from "../fixtures/http.js";
import { startGroupApp, type GroupApp } from "../fixtures/group-app.js";
import type { TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { TestApp } from "../fixtures/test-app.js";
import type { History, SendAnswer } from "../fixtures/wire.js";

const GROUP = -1001234500002;
let g: GroupApp;
let tg: TelegramStandIn;
let t: TestApp;
let seq = 0;
const uniqueUser = () => `limits-${Date.now()}-${++seq}`;

beforeAll(async () => {
  g = await startGroupApp(GROUP);
  ({ tg, t } = g);
});
afterAll(() => g.close());

/** What sendPhoto takes (https://core.telegram.org/bots/api#sendphoto), checked on the bytes Telegram received. */
async function expectWithinSendPhotoLimits(bytes: Buffer | undefined): Promise<{ width: number; height: number }> {
  expect(bytes).toBeDefined();
  const { width = 0, height = 0, format } = await sharp(bytes).metadata();
  expect(format).toBe("jpeg");
  expect(bytes?.length).toBeLessThanOrEqual(10_000_000);
  expect(width + height).toBeLessThanOrEqual(10_000);
  expect(Math.max(width, height) / Math.min(width, height)).toBeLessThanOrEqual(20);
  return { width, height };
}

async function expectAppKeeps(user: string, answer: SendAnswer, width: number, height: number): Promise<void> {
  const history = await requestJson<History>(`${t.url}/message_history/${user}`);
  const item = history.body.messages.find((m) => m.id === answer.id);
  expect(item?.photo_url).toBe(answer.photo_url);
  const file = await fetch(`${t.url}${answer.photo_url}`);
  expect(file.status).toBe(200);
  expect(await sharp(Buffer.from(await file.arrayBuffer())).metadata()).toMatchObject({ format: "jpeg", width, height });
}

test.each([
  ["12000×600 (sides add up to 12600)", 12_000, 600, { width: 2560, height: 128 }],
  ["3000×100 (30:1)", 3_000, 100, { width: 2560, height: 128 }],
  ["100×3000 (1:30)", 100, 3_000, { width: 128, height: 2560 }],
])("a %s photo reaches the group as a photo within sendPhoto's limits", async (_name, width, height, expected) => {
  const user = uniqueUser();
  const links = tg.callsTo("sendMessage").length;
  const res = await requestJson<SendAnswer>(`${t.url}/send_message`, {
    method: "POST",
    body: photoForm({ user_id: user, message: "панорама" }, [{ bytes: await plainJpeg(width, height), name: "wide.jpg" }]),
  });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ success: true, delivery: "sent", photo_count: 1, photo_url: expect.stringMatching(/^\/uploads\/.+\.jpg$/) });
  const call = tg.callsTo("sendPhoto").at(-1);
  expect(call).toMatchObject({ ok: true, messageIds: [res.body.message_id] });
  expect(String(call?.params.caption)).toContain("панорама");
  expect(await expectWithinSendPhotoLimits(call?.media[0]?.bytes)).toEqual(expected);
  // No fallback to a link in the text.
  expect(tg.callsTo("sendMessage").length).toBe(links);
  await expectAppKeeps(user, res.body, width, height);
});

test("in an album, the photo outside the limits gets a copy and the others go as stored", async () => {
  const user = uniqueUser();
  const wide = await plainJpeg(12_000, 600);
  const normal = await plainJpeg(800, 600);
  const res = await requestJson<SendAnswer>(`${t.url}/send_message`, {
    method: "POST",
    body: photoForm({ user_id: user, message: "два фото" }, [
      { bytes: wide, name: "wide.jpg" },
      { bytes: normal, name: "normal.jpg" },
    ]),
  });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ delivery: "sent", photo_count: 2 });
  const call = tg.callsTo("sendMediaGroup").at(-1);
  expect(call?.ok).toBe(true);
  expect(call?.messageIds[0]).toBe(res.body.message_id);
  expect(await expectWithinSendPhotoLimits(call?.media[0]?.bytes)).toEqual({ width: 2560, height: 128 });
  expect(await sharp(call?.media[1]?.bytes).metadata()).toMatchObject({ width: 800, height: 600 });
  const history = await requestJson<History>(`${t.url}/message_history/${user}`);
  const item = history.body.messages.find((m) => m.id === res.body.id);
  expect(item?.photo_urls).toHaveLength(2);
  await expectAppKeeps(user, res.body, 12_000, 600);
});
