// What the support group gets for a stored photo. Telegram's sendPhoto
// refuses a photo over 10 MB, whose width and height add up to more than
// 10000, or whose sides differ by more than 20 times
// (https://core.telegram.org/bots/api#sendphoto); it takes still images
// only (an animated GIF becomes its first frame, or is refused).
//
// A photo within those limits goes to Telegram as stored: the common case
// costs nothing more. Any other gets a JPEG copy made for Telegram, while
// the app keeps the full photo: Telegram shows photos at most 2560 pixels
// on the long side anyway, so the copy loses nothing the group would see,
// and the user's own photo keeps every pixel and every frame.
import { writeFile } from "node:fs/promises";
import { decoder, inSlot, type ImageFormat, type WrittenImage } from "./image-pipeline.js";

export const TELEGRAM_PHOTO = {
  // The docs say "10 MB" without saying which; the smaller reading is safe under either.
  maxBytes: 10_000_000,
  maxSidesSum: 10_000,
  maxRatio: 20,
  /** the long side of the copy: the largest Telegram shows */
  copyLongSide: 2560,
} as const;

export interface StoredPhoto extends WrittenImage {
  format: ImageFormat;
  pages: number;
}

/** Whether sendPhoto takes the stored file as it is. */
export function fitsTelegramPhoto(photo: StoredPhoto): boolean {
  const { width, height, size } = photo;
  if (photo.format === "gif" || photo.pages > 1) return false;
  return size <= TELEGRAM_PHOTO.maxBytes && width + height <= TELEGRAM_PHOTO.maxSidesSum && Math.max(width, height) / Math.min(width, height) <= TELEGRAM_PHOTO.maxRatio;
}

/** The size of the copy: scaled down to the long side Telegram shows, then padded to the widest ratio it takes. */
export function telegramCopySize(width: number, height: number): { width: number; height: number; padWidth: number; padHeight: number } {
  const scale = Math.min(1, TELEGRAM_PHOTO.copyLongSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  // A 30:1 panorama cannot be scaled into 20:1; a white band keeps all of it.
  const minShort = Math.ceil(Math.max(w, h) / TELEGRAM_PHOTO.maxRatio);
  return { width: w, height: h, padWidth: w < h ? Math.max(0, minShort - w) : 0, padHeight: w >= h ? Math.max(0, minShort - h) : 0 };
}

// Lower qualities only for a copy that is still too large (noise-like pictures).
const COPY_QUALITIES = [85, 70, 50];

/** Writes the first frame of `input` (a stored, upright photo) as a JPEG within sendPhoto's limits. */
export function writeTelegramCopy(input: string, output: string, photo: StoredPhoto): Promise<WrittenImage> {
  const size = telegramCopySize(photo.width, photo.height);
  return inSlot(async () => {
    const white = { r: 255, g: 255, b: 255, alpha: 1 };
    const image = decoder(input)
      .resize(size.width, size.height, { fit: "fill" })
      .extend({
        top: Math.floor(size.padHeight / 2),
        bottom: Math.ceil(size.padHeight / 2),
        left: Math.floor(size.padWidth / 2),
        right: Math.ceil(size.padWidth / 2),
        background: white,
      })
      .flatten({ background: white });
    for (const quality of COPY_QUALITIES) {
      const { data, info } = await image.clone().jpeg({ quality }).toBuffer({ resolveWithObject: true });
      if (data.length > TELEGRAM_PHOTO.maxBytes) continue;
      await writeFile(output, data, { flag: "wx" });
      return { width: info.width, height: info.height, size: data.length };
    }
    throw new Error(`the copy of ${input} for Telegram stays over ${TELEGRAM_PHOTO.maxBytes} bytes`);
  });
}
