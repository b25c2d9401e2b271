// Which stored photos sendPhoto takes as they are, and the copy made for
// the others (https://core.telegram.org/bots/api#sendphoto).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, test } from "vitest";
import { fitsTelegramPhoto, telegramCopySize, writeTelegramCopy, type StoredPhoto } from "../../server/storage/telegram-photo.js";

const dir = mkdtempSync(path.join(tmpdir(), "telegram-photo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const photo = (width: number, height: number, size = 1000, format: StoredPhoto["format"] = "jpeg", pages = 1): StoredPhoto => ({ width, height, size, format, pages });

describe("fitsTelegramPhoto", () => {
  test("takes a photo up to each limit, and refuses one past it", () => {
    expect(fitsTelegramPhoto(photo(4032, 3024, 3_000_000))).toBe(true);
    expect(fitsTelegramPhoto(photo(4032, 3024, 10_000_000))).toBe(true);
    expect(fitsTelegramPhoto(photo(4032, 3024, 10_000_001))).toBe(false);
    expect(fitsTelegramPhoto(photo(9000, 1000))).toBe(true);
    expect(fitsTelegramPhoto(photo(9001, 1000))).toBe(false);
    expect(fitsTelegramPhoto(photo(4000, 200))).toBe(true);
    expect(fitsTelegramPhoto(photo(4001, 200))).toBe(false);
    expect(fitsTelegramPhoto(photo(200, 4001))).toBe(false);
  });

  test("never sends a GIF or an animation as stored: sendPhoto takes still images", () => {
    expect(fitsTelegramPhoto(photo(20, 10, 100, "gif"))).toBe(false);
    expect(fitsTelegramPhoto(photo(20, 10, 100, "webp", 3))).toBe(false);
    expect(fitsTelegramPhoto(photo(20, 10, 100, "webp"))).toBe(true);
  });
});

test("the copy is scaled to 2560 on the long side and padded to 20:1 at most", () => {
  expect(telegramCopySize(12_000, 600)).toEqual({ width: 2560, height: 128, padWidth: 0, padHeight: 0 });
  expect(telegramCopySize(3000, 100)).toEqual({ width: 2560, height: 85, padWidth: 0, padHeight: 43 });
  expect(telegramCopySize(100, 3000)).toEqual({ width: 85, height: 2560, padWidth: 43, padHeight: 0 });
  expect(telegramCopySize(30_000, 1)).toEqual({ width: 2560, height: 1, padWidth: 0, padHeight: 127 });
  // Small enough already: only padded.
  expect(telegramCopySize(600, 10)).toEqual({ width: 600, height: 10, padWidth: 0, padHeight: 20 });
});

test("a stored photo over 10 MB gets a copy under it", async () => {
  // Noise does not compress: at full quality this is well over 10 MB.
  const input = path.join(dir, "noise.jpg");
  await sharp(randomBytes(3000 * 2400 * 3), { raw: { width: 3000, height: 2400, channels: 3 } })
    .jpeg({ quality: 100, chromaSubsampling: "4:4:4" })
    .toFile(input);
  const size = statSync(input).size;
  expect(size).toBeGreaterThan(10_000_000);
  const stored = photo(3000, 2400, size);
  expect(fitsTelegramPhoto(stored)).toBe(false);
  const output = path.join(dir, "copy.jpg");
  const copy = await writeTelegramCopy(input, output, stored);
  expect(copy).toEqual({ width: 2560, height: 2048, size: statSync(output).size });
  expect(copy.size).toBeLessThanOrEqual(10_000_000);
  expect(fitsTelegramPhoto({ ...copy, format: "jpeg", pages: 1 })).toBe(true);
});
