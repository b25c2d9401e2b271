// Photos are kept without their location (issue 4): the file stored, served
// back and handed to Telegram is the stripped one.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { readOrientation } from "../../server/storage/exif-orientation.js";
import { makeJpegWithGps, makePngWithExif, makeWebpWithExif } from "../fixtures/images.js";
import { photoForm, requestJson } from "../fixtures/http.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const carriesLocation = (bytes: Buffer) => ["WGS-84", "GPSLatitude", "GPS-Test-Camera"].some((s) => bytes.includes(Buffer.from(s, "latin1")));

test.each([
  ["JPEG", makeJpegWithGps(), "image/jpeg", "jpg"],
  ["PNG", makePngWithExif(), "image/png", "png"],
  ["WebP", makeWebpWithExif(), "image/webp", "webp"],
])("a %s is stored and served without its GPS data", async (_name, bytes, type, ext) => {
  expect(carriesLocation(bytes)).toBe(true);
  const res = await requestJson<{ photo_url: string }>(`${t.url}/send_message`, {
    method: "POST",
    body: photoForm({ user_id: `gps-${ext}`, message: "где я" }, [{ bytes, name: `photo.${ext}` }]),
  });
  expect(res.status).toBe(200);
  expect(res.body.photo_url).toMatch(new RegExp(`^/uploads/[A-Za-z0-9_-]{22}\\.${ext}$`));
  const file = await fetch(`${t.url}${res.body.photo_url}`);
  expect(file.headers.get("content-type")).toBe(type);
  expect(file.headers.get("x-content-type-options")).toBe("nosniff");
  const served = Buffer.from(await file.arrayBuffer());
  expect(carriesLocation(served)).toBe(false);
  expect(Number(file.headers.get("content-length"))).toBe(served.length);
  // What is on disk (and so what group delivery uploads to Telegram) is the same stripped file.
  const onDisk = readFileSync(path.join(t.dir, "uploads", path.basename(res.body.photo_url)));
  expect(onDisk.equals(served)).toBe(true);
});

test("a JPEG keeps its Orientation so it still displays upright", async () => {
  const res = await requestJson<{ photo_url: string }>(`${t.url}/send_message`, {
    method: "POST",
    body: photoForm({ user_id: "gps-orientation", message: "" }, [{ bytes: makeJpegWithGps(6), name: "portrait.jpg" }]),
  });
  const served = Buffer.from(await (await fetch(`${t.url}${res.body.photo_url}`)).arrayBuffer());
  const exifAt = served.indexOf(Buffer.from("Exif\0\0", "latin1"));
  expect(exifAt).toBeGreaterThan(0);
  expect(readOrientation(served.subarray(exifAt + 6))).toBe(6);
});
