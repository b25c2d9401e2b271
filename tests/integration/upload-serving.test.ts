// /uploads streams stored photos from disk. A file that disappears or fails
// to read while it is being served must cost that one answer only: never
// the process (an unhandled stream error would end it for every user).
import { randomBytes } from "node:crypto";
import { createReadStream, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import type { UploadStore } from "../../server/storage/uploads.js";
import { requestJson } from "../fixtures/http.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

let t: TestApp;
let originalOpen: UploadStore["open"];
/** Every instance's store opens files with `open` (in a cluster a request may reach any of them; they share UPLOAD_DIR). */
const openWith = (open: UploadStore["open"]) => t.apps.forEach((app) => (app.uploads.open = open));
const BYTES = randomBytes(512 * 1024);

/** A stored file put straight on disk (the store serves any file under a name it could have given). */
function storedFile(): string {
  const name = `${randomBytes(16).toString("base64url").slice(0, 22)}.png`;
  writeFileSync(path.join(t.dir, "uploads", name), BYTES);
  return name;
}

beforeAll(async () => {
  t = await startTestApp();
  originalOpen = t.app.uploads.open.bind(t.app.uploads);
});
afterEach(() => openWith(originalOpen));
afterAll(async () => {
  await t.close();
});

async function stillServing(): Promise<void> {
  expect((await requestJson(`${t.url}/health`)).status).toBe(200);
  const name = storedFile();
  const whole = await fetch(`${t.url}/uploads/${name}`);
  expect(whole.status).toBe(200);
  expect(Buffer.from(await whole.arrayBuffer()).equals(BYTES)).toBe(true);
}

test("a file removed after it was found is a 404, and the service carries on", async () => {
  const name = storedFile();
  openWith(async (filename) => {
    const file = await originalOpen(filename);
    if (file) await rm(file.path);
    return file;
  });
  const answer = await requestJson(`${t.url}/uploads/${name}`);
  expect(answer.status).toBe(404);
  expect(answer.body).toEqual({ success: false, error: "no such upload" });
  openWith(originalOpen);
  await stillServing();
});

test("a read that fails mid-stream cuts that answer short, and the service carries on", async () => {
  const name = storedFile();
  openWith(async (filename) => {
    const file = await originalOpen(filename);
    if (!file) return file;
    return {
      ...file,
      stream: () => {
        // The disk fails on the third read: two chunks have gone out by then.
        const stream = createReadStream(file.path, { highWaterMark: 64 * 1024 });
        const read = stream._read.bind(stream);
        let reads = 0;
        stream._read = (size) => {
          if (++reads === 3) stream.destroy(Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" }));
          else read(size);
        };
        return stream;
      },
    };
  });
  const answer = await fetch(`${t.url}/uploads/${name}`);
  expect(answer.status).toBe(200);
  expect(answer.headers.get("content-length")).toBe(String(BYTES.length));
  await expect(answer.arrayBuffer()).rejects.toThrow();
  openWith(originalOpen);
  await stillServing();
});
