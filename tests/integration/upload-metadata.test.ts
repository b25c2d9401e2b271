// Every uploaded photo is decoded and written anew: what is stored, served
// and handed to Telegram carries no location (Exif GPS, XMP, IPTC,
// comments) in any format, is upright in its pixels, and anything that is
// not a decodable image of a sane size is refused with the photo's name.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  animatedGif,
  carriesLocation,
  leftRedRightBlue,
  photoWithLocation,
  pixelBombPng,
  truncatedJpeg,
  type PhotoFormat,
} from "../fixtures/images.js";
import { photoForm, requestJson } from "../fixtures/http.js";
import { startGroupApp, type GroupApp } from "../fixtures/group-app.js";
import type { TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { TestApp } from "../fixtures/test-app.js";
import type { SendAnswer } from "../fixtures/wire.js";

const GROUP = -1001234500001;
let g: GroupApp;
let tg: TelegramStandIn;
let t: TestApp;
let seq = 0;
const uniqueUser = () => `meta-${Date.now()}-${++seq}`;

beforeAll(async () => {
  g = await startGroupApp(GROUP);
  ({ tg, t } = g);
});
afterAll(() => g.close());

async function upload(bytes: Buffer, name: string, user = uniqueUser()) {
  return requestJson<SendAnswer>(`${t.url}/send_message`, { method: "POST", body: photoForm({ user_id: user, message: "где я" }, [{ bytes, name }]) });
}

async function served(url: string): Promise<{ bytes: Buffer; type: string | null }> {
  const res = await fetch(`${t.url}${url}`);
  expect(res.status).toBe(200);
  return { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get("content-type") };
}

const storedFiles = () => readdirSync(path.join(t.dir, "uploads")).filter((f) => !f.startsWith("."));

describe("location metadata", () => {
  test.each([
    ["jpeg", "image/jpeg", "jpg"],
    ["png", "image/png", "png"],
    ["webp", "image/webp", "webp"],
    ["gif", "image/gif", "gif"],
  ] as [PhotoFormat, string, string][])("a %s is stored, served and sent to the group without its location", async (format, type, ext) => {
    const bytes = await photoWithLocation(format);
    expect(carriesLocation(bytes).length).toBeGreaterThanOrEqual(2);
    const res = await upload(bytes, `photo.${ext}`);
    expect(res.status).toBe(200);
    expect(res.body.photo_url).toMatch(new RegExp(`^/uploads/[A-Za-z0-9_-]{22}\\.${ext}$`));
    const file = await served(res.body.photo_url as string);
    expect(file.type).toBe(type);
    expect(carriesLocation(file.bytes)).toEqual([]);
    const meta = await sharp(file.bytes).metadata();
    expect(meta).toMatchObject({ format, width: 60, height: 40 });
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.iptc).toBeUndefined();
    expect(meta.comments ?? []).toEqual([]);
    // What is on disk is the same cleaned file.
    expect(readFileSync(path.join(t.dir, "uploads", path.basename(res.body.photo_url as string))).equals(file.bytes)).toBe(true);
    // And what the group got carries none of it either.
    const call = tg.callsTo("sendPhoto").at(-1);
    expect(call?.ok).toBe(true);
    expect(call?.messageIds).toEqual([res.body.message_id]);
    expect(carriesLocation(call?.media[0]?.bytes ?? Buffer.alloc(0))).toEqual([]);
  });

  test("an animated GIF keeps its frames for the app; the group gets its first frame as a photo", async () => {
    const gif = await animatedGif(20, 10);
    expect(carriesLocation(gif).length).toBeGreaterThan(0);
    const res = await upload(gif, "dance.gif");
    expect(res.status).toBe(200);
    const file = await served(res.body.photo_url as string);
    expect(carriesLocation(file.bytes)).toEqual([]);
    expect(await sharp(file.bytes).metadata()).toMatchObject({ format: "gif", pages: 3, width: 20, height: 10, delay: [100, 200, 300], loop: 0 });
    const call = tg.callsTo("sendPhoto").at(-1);
    expect(call).toMatchObject({ ok: true, messageIds: [res.body.message_id] });
    const sent = call?.media[0]?.bytes ?? Buffer.alloc(0);
    const meta = await sharp(sent).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 20, height: 10 });
    expect(meta.pages ?? 1).toBe(1);
    // The first frame is the red one.
    const { data } = await sharp(sent).raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(200);
    expect(data[1]).toBeLessThan(60);
  });
});

test("a portrait photo taken sideways (Orientation 6) is stored upright in its pixels", async () => {
  // Stored 60×40 with the left half red; Orientation 6 means the stored left
  // edge is the top of the picture, so upright it is 40×60, red on top.
  const bytes = await photoWithLocation("jpeg", { width: 60, height: 40, orientation: 6, pixels: leftRedRightBlue(60, 40) });
  expect((await sharp(bytes).metadata()).orientation).toBe(6);
  const res = await upload(bytes, "portrait.jpg");
  expect(res.status).toBe(200);
  for (const photo of [(await served(res.body.photo_url as string)).bytes, tg.callsTo("sendPhoto").at(-1)?.media[0]?.bytes ?? Buffer.alloc(0)]) {
    const meta = await sharp(photo).metadata();
    expect(meta).toMatchObject({ width: 40, height: 60 });
    expect(meta.orientation ?? 1).toBe(1);
    const { data } = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)];
    expect(pixel(20, 10)).toEqual([expect.toSatisfy((r: number) => r > 200), expect.toSatisfy((g: number) => g < 60), expect.toSatisfy((b: number) => b < 60)]);
    expect(pixel(20, 50)).toEqual([expect.toSatisfy((r: number) => r < 60), expect.toSatisfy((g: number) => g < 60), expect.toSatisfy((b: number) => b > 200)]);
  }
});

describe("refused", () => {
  test.each([
    ["inside its image data", "in-data"],
    ["right after its headers", "after-headers"],
  ] as const)("a JPEG cut short %s, and nothing is kept", async (_how, cut) => {
    const before = storedFiles().length;
    const sends = tg.calls.length;
    const bytes = await truncatedJpeg(cut);
    expect((await sharp(bytes).metadata()).format).toBe("jpeg");
    expect(bytes.subarray(0, 3).toString("hex")).toBe("ffd8ff");
    const res = await upload(bytes, "broken.jpg");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: expect.stringMatching(/"broken\.jpg" is damaged/) });
    expect(storedFiles().length).toBe(before);
    expect(tg.calls.length).toBe(sends);
  });

  test("a decompression bomb, at once and without decoding it", async () => {
    const bomb = pixelBombPng(20_000);
    expect(bomb.length).toBeLessThan(100 * 1024);
    const before = storedFiles().length;
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const res = await upload(bomb, "bomb.png");
    const elapsed = performance.now() - started;
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/"bomb\.png" is 20000×20000 pixels, more than the 50 megapixels accepted/);
    // Decoded, it would be 400 MB (1.2 GB as RGB); refused from its header it costs next to nothing.
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    expect(elapsed).toBeLessThan(1_000);
    expect(storedFiles().length).toBe(before);
  });

  test("an image of another type by content (TIFF), whatever its name", async () => {
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } }).tiff().toBuffer();
    const res = await upload(tiff, "scan.jpg");
    expect(res.status).toBe(415);
    expect(res.body.error).toMatch(/"scan\.jpg" is not a JPEG, PNG, WebP or GIF image \(it is TIFF\)/);
  });
});
