// Removes location-bearing metadata from uploaded photos without
// re-encoding them: whole segments and chunks are dropped by walking the
// container structure, the pixels are never touched.
//
// - JPEG: APP1 (Exif, XMP, extended XMP) and APP13 (IPTC, which names
//   places) are dropped; Exif is replaced by one holding only Orientation
//   (see exif-orientation.ts); the APP2 MPF index and everything after the
//   first EOI go too: that is where extra images (depth maps, Motion Photo
//   videos) hide, each with metadata of its own.
// - PNG: eXIf and the textual chunks (XMP lives in iTXt, ImageMagick puts
//   raw Exif into zTXt/tEXt) are dropped.
// - WebP: the EXIF and "XMP " chunks are dropped, their VP8X flags cleared
//   and the RIFF size fixed.
// - GIF carries no Exif.
//
// Files that do not parse are left as they are past the point where the
// structure stops making sense (decoders resynchronise the same way): the
// uploader is the person this protects, and a camera writes well-formed files.
import { orientationOnlyTiff, readOrientation } from "./exif-orientation.js";

/** The bytes without location metadata; the same Buffer when there was nothing to remove. */
export function stripLocationMetadata(bytes: Buffer, mime: string): Buffer {
  let stripped: Buffer | null = null;
  if (mime === "image/jpeg") stripped = stripJpeg(bytes);
  else if (mime === "image/png") stripped = stripPng(bytes);
  else if (mime === "image/webp") stripped = stripWebp(bytes);
  return stripped ?? bytes;
}

const EXIF_HEADER = Buffer.from("Exif\0\0", "latin1");
const MPF_HEADER = Buffer.from("MPF\0", "latin1");

function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
}

/** What becomes of one JPEG marker segment: kept, dropped, or replaced by new bytes. */
function jpegSegment(marker: number, payload: Buffer): "keep" | "drop" | Buffer {
  if (marker === 0xe1) {
    if (!payload.subarray(0, 5).equals(EXIF_HEADER.subarray(0, 5))) return "drop";
    const orientation = readOrientation(payload.subarray(EXIF_HEADER.length));
    if (orientation === null) return "drop";
    const body = Buffer.concat([EXIF_HEADER, orientationOnlyTiff(orientation)]);
    const header = Buffer.from([0xff, 0xe1, 0, 0]);
    header.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([header, body]);
  }
  if (marker === 0xed) return "drop";
  if (marker === 0xe2 && payload.subarray(0, MPF_HEADER.length).equals(MPF_HEADER)) return "drop";
  return "keep";
}

/** End of entropy-coded data starting at `from`: the next marker that is not a stuffed byte or a restart. */
function scanEnd(src: Buffer, from: number): number {
  let p = from;
  for (;;) {
    p = src.indexOf(0xff, p);
    if (p === -1 || p + 1 >= src.length) return src.length;
    const next = src[p + 1] as number;
    if (next === 0xff) p += 1;
    else if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) p += 2;
    else return p;
  }
}

function stripJpeg(src: Buffer): Buffer | null {
  if (src.length < 4 || src[0] !== 0xff || src[1] !== 0xd8) return null;
  const parts: Buffer[] = [src.subarray(0, 2)];
  let changed = false;
  let pos = 2;
  while (pos < src.length) {
    if (src[pos] !== 0xff) {
      // Stray bytes between segments: copied, and parsing resumes at the next marker.
      const next = src.indexOf(0xff, pos);
      const end = next === -1 ? src.length : next;
      parts.push(src.subarray(pos, end));
      pos = end;
      continue;
    }
    let m = pos + 1;
    while (m < src.length && src[m] === 0xff) m++; // fill bytes
    const marker = src[m];
    if (marker === undefined) {
      parts.push(src.subarray(pos));
      break;
    }
    if (marker === 0xd9) {
      parts.push(src.subarray(pos, m + 1));
      if (m + 1 < src.length) changed = true;
      break;
    }
    if (marker === 0x00 || isStandalone(marker)) {
      parts.push(src.subarray(pos, m + 1));
      pos = m + 1;
      continue;
    }
    const length = m + 3 <= src.length ? src.readUInt16BE(m + 1) : 0;
    const end = m + 1 + length;
    if (length < 2 || end > src.length) {
      parts.push(src.subarray(pos));
      break;
    }
    if (marker === 0xda) {
      const scanned = scanEnd(src, end);
      parts.push(src.subarray(pos, scanned));
      pos = scanned;
      continue;
    }
    const action = jpegSegment(marker, src.subarray(m + 3, end));
    const original = src.subarray(pos, end);
    if (action === "keep") parts.push(original);
    else if (action === "drop") changed = true;
    else {
      parts.push(action);
      if (!action.equals(original)) changed = true;
    }
    pos = end;
  }
  return changed ? Buffer.concat(parts) : null;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_DROPPED = new Set(["eXIf", "tEXt", "zTXt", "iTXt"]);

function stripPng(src: Buffer): Buffer | null {
  if (!src.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  const parts: Buffer[] = [PNG_SIGNATURE];
  let changed = false;
  let pos = 8;
  while (pos < src.length) {
    const end = pos + 12 <= src.length ? pos + 12 + src.readUInt32BE(pos) : Infinity;
    if (end > src.length) {
      parts.push(src.subarray(pos));
      break;
    }
    const type = src.toString("latin1", pos + 4, pos + 8);
    if (PNG_DROPPED.has(type)) changed = true;
    else parts.push(src.subarray(pos, end));
    pos = end;
    if (type === "IEND") {
      if (pos < src.length) changed = true; // data after the image
      break;
    }
  }
  return changed ? Buffer.concat(parts) : null;
}

const WEBP_DROPPED = new Set(["EXIF", "XMP "]);
// VP8X flag bits that announce those chunks (WebP container spec).
const VP8X_EXIF = 0x08;
const VP8X_XMP = 0x04;

function stripWebp(src: Buffer): Buffer | null {
  if (src.length < 12 || src.toString("latin1", 0, 4) !== "RIFF" || src.toString("latin1", 8, 12) !== "WEBP") return null;
  const riffEnd = Math.min(src.length, 8 + src.readUInt32LE(4));
  const parts: Buffer[] = [];
  let changed = riffEnd < src.length;
  let pos = 12;
  while (pos < riffEnd) {
    if (pos + 8 > riffEnd || pos + 8 + src.readUInt32LE(pos + 4) > riffEnd) {
      parts.push(src.subarray(pos, riffEnd));
      break;
    }
    const size = src.readUInt32LE(pos + 4);
    const end = Math.min(riffEnd, pos + 8 + size + (size % 2)); // chunks are padded to even sizes
    const fourcc = src.toString("latin1", pos, pos + 4);
    if (WEBP_DROPPED.has(fourcc)) changed = true;
    else if (fourcc === "VP8X" && size >= 1) {
      const chunk = Buffer.from(src.subarray(pos, end));
      chunk[8] = (chunk[8] as number) & ~(VP8X_EXIF | VP8X_XMP);
      if (chunk[8] !== src[pos + 8]) changed = true;
      parts.push(chunk);
    } else parts.push(src.subarray(pos, end));
    pos = end;
  }
  if (!changed) return null;
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(12);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(body.length + 4, 4);
  header.write("WEBP", 8, "latin1");
  return Buffer.concat([header, body]);
}
