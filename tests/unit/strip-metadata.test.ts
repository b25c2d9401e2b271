// Location metadata is cut out of JPEG, PNG and WebP files by structure,
// leaving the image data byte for byte as it was.
import { inflateSync } from "node:zlib";
import { fileTypeFromBuffer } from "file-type";
import { describe, expect, test } from "vitest";
import { readOrientation } from "../../server/storage/exif-orientation.js";
import { stripLocationMetadata } from "../../server/storage/strip-metadata.js";
import { makeGif, makeJpegWithGps, makePng, makePngWithExif, makeWebpWithExif } from "../fixtures/images.js";

const has = (bytes: Buffer, text: string) => bytes.includes(Buffer.from(text, "latin1"));

/** The marker segments of a JPEG up to its first scan, as [marker, payload]. */
function jpegSegments(bytes: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1] as number;
    const length = bytes.readUInt16BE(pos + 2);
    out.push([marker, bytes.subarray(pos + 4, pos + 2 + length)]);
    if (marker === 0xda) break;
    pos += 2 + length;
  }
  return out;
}

function pngChunkTypes(bytes: Buffer): string[] {
  const types: string[] = [];
  for (let pos = 8; pos + 12 <= bytes.length; pos += 12 + bytes.readUInt32BE(pos)) types.push(bytes.toString("latin1", pos + 4, pos + 8));
  return types;
}

describe("JPEG", () => {
  const original = makeJpegWithGps(6);

  test("the fixture carries the location where cameras put it", () => {
    expect(has(original, "WGS-84")).toBe(true);
    expect(has(original, "GPSLatitude")).toBe(true);
    expect(has(original, "Moscow City")).toBe(true);
  });

  test("drops the GPS IFD, XMP, IPTC and what follows EOI, keeps Orientation and the image", async () => {
    const out = stripLocationMetadata(original, "image/jpeg");
    expect(has(out, "WGS-84")).toBe(false);
    expect(has(out, "GPS-Test-Camera")).toBe(false);
    expect(has(out, "GPSLatitude")).toBe(false);
    expect(has(out, "Moscow City")).toBe(false);
    const segments = jpegSegments(out);
    expect(segments.map(([m]) => m.toString(16))).toEqual(["e0", "e1", "e2", "db", "c0", "c4", "da"]);
    const exif = segments[1]?.[1] as Buffer;
    expect(exif.subarray(0, 6).toString("latin1")).toBe("Exif\0\0");
    expect(readOrientation(exif.subarray(6))).toBe(6);
    // The ICC profile, tables and scan data are untouched; the file ends at the first EOI.
    const scanAt = original.indexOf(Buffer.from([0xff, 0xdb]));
    const eoiAt = original.indexOf(Buffer.from([0xff, 0xd9]));
    expect(out.subarray(out.length - (eoiAt + 2 - scanAt)).equals(original.subarray(scanAt, eoiAt + 2))).toBe(true);
    expect(has(out, "ICC_PROFILE")).toBe(true);
    expect((await fileTypeFromBuffer(out))?.mime).toBe("image/jpeg");
  });

  test("drops Exif whole when it has no Orientation to keep", () => {
    const out = stripLocationMetadata(makeJpegWithGps(null), "image/jpeg");
    expect(jpegSegments(out).some(([m]) => m === 0xe1)).toBe(false);
    expect(has(out, "WGS-84")).toBe(false);
  });

  test("is idempotent and returns the same buffer when there is nothing to remove", () => {
    const once = stripLocationMetadata(original, "image/jpeg");
    expect(stripLocationMetadata(once, "image/jpeg")).toBe(once);
  });

  test("leaves a JPEG it cannot follow as it is past that point", () => {
    const odd = Buffer.concat([Buffer.from("ffd8ffe000104a4649460001", "hex"), Buffer.alloc(2048, 3), Buffer.from("ffd9", "hex")]);
    expect(stripLocationMetadata(odd, "image/jpeg")).toBe(odd);
    const truncated = original.subarray(0, 40);
    expect(() => stripLocationMetadata(truncated, "image/jpeg")).not.toThrow();
  });

  test("never throws on random bytes behind a JPEG signature", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
    for (let i = 0; i < 500; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + (i % 200) }, random));
      const input = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), junk]);
      expect(() => stripLocationMetadata(input, "image/jpeg")).not.toThrow();
      expect(() => stripLocationMetadata(Buffer.concat([original.subarray(0, i % original.length), junk]), "image/jpeg")).not.toThrow();
    }
  });
});

describe("PNG", () => {
  test("drops eXIf and XMP text, keeps the image chunks and their bytes", () => {
    const original = makePngWithExif();
    expect(pngChunkTypes(original)).toEqual(["IHDR", "eXIf", "iTXt", "IDAT", "IEND"]);
    const out = stripLocationMetadata(original, "image/png");
    expect(pngChunkTypes(out)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect(out.equals(makePng())).toBe(true);
    expect(has(out, "WGS-84") || has(out, "GPSLatitude")).toBe(false);
  });

  test("a PNG without metadata comes back as the same buffer", () => {
    const png = makePng();
    expect(stripLocationMetadata(png, "image/png")).toBe(png);
    // Its pixels still inflate (sanity check on the fixture).
    expect(inflateSync(png.subarray(8 + 25 + 8, png.length - 16)).length).toBeGreaterThan(0);
  });
});

describe("WebP", () => {
  test("drops EXIF and XMP chunks, clears their flags and fixes the RIFF size", async () => {
    const original = makeWebpWithExif();
    const out = stripLocationMetadata(original, "image/webp");
    expect(has(out, "WGS-84") || has(out, "GPSLatitude") || has(out, "EXIF")).toBe(false);
    expect(out.readUInt32LE(4)).toBe(out.length - 8);
    expect(out.toString("latin1", 12, 16)).toBe("VP8X");
    expect((out[20] as number) & 0x0c).toBe(0);
    expect(out.subarray(30).toString("latin1", 0, 4)).toBe("VP8L");
    expect((await fileTypeFromBuffer(out))?.mime).toBe("image/webp");
  });
});

test("GIF and unknown types pass through untouched", () => {
  const gif = makeGif();
  expect(stripLocationMetadata(gif, "image/gif")).toBe(gif);
});
