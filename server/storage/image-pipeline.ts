// Every photo the service keeps goes through libvips (sharp). Decoding it
// is the proof that it is an image; writing it anew is how its metadata
// goes: libvips writes only the pixels (and the colour profile we ask it to
// keep), so Exif with GPS, XMP, IPTC and comments are gone in every format,
// GIF included, without a parser of our own for each container.
//
// The format is taken from the bytes (libvips' loaders sniff the content),
// never from the name. Only the header is read before the pixel cap is
// checked, so a small file that claims huge dimensions costs nothing.
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import sharp, { type Metadata, type OutputInfo, type Sharp } from "sharp";
import { AppError } from "../errors.js";

// Each upload is a different file: libvips' operation cache would only hold memory.
sharp.cache(false);

/**
 * The most pixels a photo may have (counting every frame of an animation).
 * Decoding needs about 3 bytes a pixel, so this bounds one photo at ~150 MB;
 * the largest ordinary phone sensors (50 MP, 8160×6120) fit, and the 108 and
 * 200 MP modes write files over the 10 MB upload limit anyway.
 */
export const MAX_PHOTO_PIXELS = 50_000_000;

export type ImageFormat = "jpeg" | "png" | "webp" | "gif";

export const FORMATS: Record<ImageFormat, { ext: string; contentType: string; label: string }> = {
  jpeg: { ext: "jpg", contentType: "image/jpeg", label: "JPEG" },
  png: { ext: "png", contentType: "image/png", label: "PNG" },
  webp: { ext: "webp", contentType: "image/webp", label: "WebP" },
  gif: { ext: "gif", contentType: "image/gif", label: "GIF" },
};

export interface ImageInfo {
  format: ImageFormat;
  /** one frame, as stored (before the Exif orientation is applied) */
  width: number;
  height: number;
  /** frames: more than 1 for an animated GIF or WebP */
  pages: number;
  /** Exif orientation, 1 (as stored) to 8 */
  orientation: number;
}

export interface WrittenImage {
  /** one frame, upright */
  width: number;
  height: number;
  size: number;
}

/** How a photo is named in errors: by the client's file name, cut short. */
export function photoLabel(name: string): string {
  return name ? `"${name.slice(0, 80)}"` : "(unnamed)";
}

const isFormat = (format: string | undefined): format is ImageFormat => format !== undefined && format in FORMATS;

/** What a file is, from its header only; an error naming it when it is not a photo the service takes. */
export async function inspectImage(file: string, name: string): Promise<ImageInfo> {
  let meta: Metadata;
  try {
    // No pixel limit here: only the header is read, and the cap below names the dimensions.
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (error) {
    // sharp's own words for "no loader recognises these bytes"; anything else is a loader that recognised them and failed.
    if (/unsupported image format/i.test((error as Error).message)) throw notAnImage(name);
    throw damaged(name);
  }
  if (!isFormat(meta.format)) throw notAnImage(name, meta.format);
  const { width, height } = meta;
  const pages = meta.pages ?? 1;
  if (!width || !height) throw damaged(name);
  if (width * height * pages > MAX_PHOTO_PIXELS) {
    const frames = pages > 1 ? ` in ${pages} frames` : "";
    throw new AppError(
      "PAYLOAD_TOO_LARGE",
      `photo ${photoLabel(name)} is ${width}×${height} pixels${frames}, more than the ${MAX_PHOTO_PIXELS / 1_000_000} megapixels accepted`,
    );
  }
  return { format: meta.format, width, height, pages, orientation: meta.orientation ?? 1 };
}

/**
 * Writes `input` to `output` as the same format, upright (the Exif
 * orientation applied to the pixels, since the tag itself goes) and
 * without metadata. Animations keep every frame, their delays and loop.
 */
export function writeCleanImage(input: string, output: string, info: ImageInfo, name: string): Promise<WrittenImage> {
  const animated = info.pages > 1;
  return inSlot(async () => {
    const image = decoder(input, { animated, autoOrient: !animated }).keepIccProfile();
    let encoded: { data: Buffer; info: OutputInfo };
    try {
      encoded = await encode(image, info.format).toBuffer({ resolveWithObject: true });
    } catch {
      // Only the decoding can fail here (the header was read already): the photo's fault, not ours.
      throw damaged(name, info.format);
    }
    // Written apart, so a failing disk is a server error and never blamed on the photo.
    await writeFile(output, encoded.data, { flag: "wx" });
    return { width: encoded.info.width, height: encoded.info.pageHeight ?? encoded.info.height, size: encoded.data.length };
  });
}

/**
 * A decoder with the limits every photo gets. `failOn: "error"` refuses
 * what does not decode (broken data, a truncated file) but not the harmless
 * warnings some phone cameras' JPEGs raise, which would refuse real photos.
 */
export function decoder(input: string, options: { animated?: boolean; autoOrient?: boolean } = {}): Sharp {
  return sharp(input, { limitInputPixels: MAX_PHOTO_PIXELS, failOn: "error", ...options });
}

function encode(image: Sharp, format: ImageFormat): Sharp {
  switch (format) {
    // Phones write JPEG at about 90–95; 90 keeps the re-encoding invisible.
    // Without the optimised Huffman pass a 12 MP photo takes about a third
    // less CPU (measured: ~330 against ~520 ms) for a file ~4 % larger.
    case "jpeg":
      return image.jpeg({ quality: 90, optimiseCoding: false });
    case "png":
      return image.png();
    // libwebp's effort 2 instead of 4: ~2.1 against ~3.3 s of CPU for 12 MP, ~2 % larger.
    case "webp":
      return image.webp({ quality: 90, effort: 2 });
    case "gif":
      // reuse: keep the GIF's own palette rather than quantising again.
      return image.gif({ reuse: true });
  }
}

function notAnImage(name: string, actual?: string): AppError {
  return new AppError("UNSUPPORTED_MEDIA_TYPE", `photo ${photoLabel(name)} is not a JPEG, PNG, WebP or GIF image${actual ? ` (it is ${actual.toUpperCase()})` : ""}`);
}

function damaged(name: string, format?: ImageFormat): AppError {
  return new AppError("BAD_REQUEST", `photo ${photoLabel(name)} is damaged: it does not decode as ${format ? `a ${FORMATS[format].label}` : "an"} image`);
}

// libvips runs each job on a thread of libuv's pool (4 by default), which
// file reads and writes share: a burst of uploads must not take every
// thread, nor hold many decoded photos in memory at once.
const MAX_JOBS = Math.max(1, Math.min(availableParallelism(), 3));
let running = 0;
const waiting: (() => void)[] = [];

/** Runs image work when a slot is free (at most MAX_JOBS at once, in arrival order). */
export async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running < MAX_JOBS) running += 1;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    // The slot passes straight to the next in line, or is freed.
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}
