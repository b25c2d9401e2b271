// Stored photos: checked by content (never by name or declared type), kept
// under random names, served back only by those names.
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync } from "node:fs";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileTypeFromBuffer } from "file-type";
import { AppError } from "../errors.js";
import { stripLocationMetadata } from "./strip-metadata.js";

export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/** The image types the service keeps, by what their bytes say they are. */
const ALLOWED = new Map([
  ["image/jpeg", "jpg"],
  ["image/png", "png"],
  ["image/webp", "webp"],
  ["image/gif", "gif"],
]);
const CONTENT_TYPE_OF_EXT = new Map([...ALLOWED].map(([mime, ext]) => [ext, mime]));

const STORED_NAME = /^[A-Za-z0-9_-]{22}\.(jpg|png|webp|gif)$/;
// file-type needs at most this many leading bytes to recognise these formats.
const SNIFF_BYTES = 4100;

export interface StoredUpload {
  filename: string;
  /** the path the mobile app fetches it from */
  url: string;
  /** absolute path on disk */
  path: string;
  contentType: string;
  size: number;
}

/** A file received but not yet kept: accepted by `keep`, or thrown away. */
export interface PendingUpload {
  tempPath: string;
  size: number;
  head: Buffer;
  /** the client's name for it, only for error messages */
  clientName: string;
}

export class UploadStore {
  private readonly incomingDir: string;

  constructor(readonly dir: string) {
    this.incomingDir = path.join(dir, ".incoming");
    mkdirSync(this.incomingDir, { recursive: true });
  }

  /**
   * Streams a file to a temporary place, enforcing `maxBytes` while it is
   * read. `truncated()` tells whether the source stopped at a limit (busboy's
   * `fileSize`); such a file is refused.
   */
  async receive(source: Readable, clientName: string, truncated: () => boolean, maxBytes = MAX_PHOTO_BYTES): Promise<PendingUpload> {
    const tempPath = path.join(this.incomingDir, `${randomName()}.part`);
    const headChunks: Buffer[] = [];
    let headSize = 0;
    let size = 0;
    source.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (headSize < SNIFF_BYTES) {
        headChunks.push(chunk);
        headSize += chunk.length;
      }
    });
    const sink = createWriteStream(tempPath);
    try {
      await pipeline(source, sink);
    } catch (error) {
      // The file may still be opening when the source fails: removing it
      // before the stream has closed would leave it behind.
      if (!sink.closed) await new Promise<void>((resolve) => sink.once("close", () => resolve()));
      await rm(tempPath, { force: true });
      throw error;
    }
    if (truncated() || size > maxBytes) {
      await rm(tempPath, { force: true });
      throw new AppError("PAYLOAD_TOO_LARGE", `photo ${describe(clientName)} is larger than ${maxBytes / (1024 * 1024)} MB`);
    }
    return { tempPath, size, head: Buffer.concat(headChunks).subarray(0, SNIFF_BYTES), clientName };
  }

  /** What a pending file really is, or an error naming it when it is not an allowed image. */
  async sniff(pending: PendingUpload): Promise<{ mime: string; ext: string }> {
    if (pending.size === 0) throw new AppError("BAD_REQUEST", `photo ${describe(pending.clientName)} is empty`);
    const type = await fileTypeFromBuffer(pending.head);
    const ext = type ? ALLOWED.get(type.mime) : undefined;
    if (!type || !ext) {
      throw new AppError(
        "UNSUPPORTED_MEDIA_TYPE",
        `photo ${describe(pending.clientName)} is not a JPEG, PNG, WebP or GIF image${type ? ` (it is ${type.mime})` : ""}`,
      );
    }
    return { mime: type.mime, ext };
  }

  /**
   * Moves a checked file to its permanent random name, without its location
   * metadata: what is stored, served and sent to Telegram is the stripped file.
   */
  async keep(pending: PendingUpload, type: { mime: string; ext: string }): Promise<StoredUpload> {
    const filename = `${randomName()}.${type.ext}`;
    const finalPath = path.join(this.dir, filename);
    let size = pending.size;
    if (type.mime === "image/gif") await rename(pending.tempPath, finalPath);
    else {
      const original = await readFile(pending.tempPath);
      const stripped = stripLocationMetadata(original, type.mime);
      if (stripped === original) await rename(pending.tempPath, finalPath);
      else {
        await writeFile(finalPath, stripped, { flag: "wx" });
        await rm(pending.tempPath, { force: true });
        size = stripped.length;
      }
    }
    return { filename, url: `/uploads/${filename}`, path: finalPath, contentType: type.mime, size };
  }

  async discard(pending: readonly PendingUpload[]): Promise<void> {
    await this.removeFiles(pending.map((p) => p.tempPath));
  }

  async removeFiles(paths: readonly string[]): Promise<void> {
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }

  /** Stores bytes already in memory (a photo fetched from Telegram). */
  async saveBuffer(bytes: Buffer, clientName: string): Promise<StoredUpload> {
    if (bytes.length > MAX_PHOTO_BYTES * 2) throw new AppError("PAYLOAD_TOO_LARGE", `photo ${describe(clientName)} is too large`);
    const pending: PendingUpload = {
      tempPath: path.join(this.incomingDir, `${randomName()}.part`),
      size: bytes.length,
      head: bytes.subarray(0, SNIFF_BYTES),
      clientName,
    };
    const type = await this.sniff(pending);
    await pipeline(async function* () {
      yield bytes;
    }, createWriteStream(pending.tempPath));
    return this.keep(pending, type);
  }

  /** A stored file by its public name; null for any other name (no traversal). */
  async open(filename: string): Promise<{ path: string; size: number; contentType: string; stream: () => Readable } | null> {
    if (!STORED_NAME.test(filename)) return null;
    const filePath = path.join(this.dir, filename);
    try {
      const info = await stat(filePath);
      if (!info.isFile()) return null;
      const ext = filename.slice(filename.lastIndexOf(".") + 1);
      return {
        path: filePath,
        size: info.size,
        contentType: CONTENT_TYPE_OF_EXT.get(ext) ?? "application/octet-stream",
        stream: () => createReadStream(filePath),
      };
    } catch {
      return null;
    }
  }

  /** Absolute path of an upload URL this store produced, or null. */
  pathOfUrl(url: string): string | null {
    const match = /^\/uploads\/([^/]+)$/.exec(url);
    return match?.[1] && STORED_NAME.test(match[1]) ? path.join(this.dir, match[1]) : null;
  }
}

function randomName(): string {
  // 128 bits: unguessable, so a photo's URL is its only key.
  return randomBytes(16).toString("base64url");
}

function describe(name: string): string {
  return name ? `"${name.slice(0, 80)}"` : "(unnamed)";
}
