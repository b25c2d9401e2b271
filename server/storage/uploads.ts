// Stored photos: checked by content (never by name or declared type),
// cleaned (see image-pipeline.ts), kept under random names, served back
// only by those names.
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync } from "node:fs";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../errors.js";
import { FORMATS, inspectImage, photoLabel, writeCleanImage, type ImageInfo } from "./image-pipeline.js";
import { fitsTelegramPhoto, writeTelegramCopy } from "./telegram-photo.js";

export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
/** The largest file the Bot API's getFile serves (https://core.telegram.org/bots/api#getfile): an agent's photo is fetched and kept up to this. */
export const MAX_AGENT_PHOTO_BYTES = 20 * 1024 * 1024;

const CONTENT_TYPE_OF_EXT = new Map(Object.values(FORMATS).map((f) => [f.ext, f.contentType]));

const STORED_NAME = /^[A-Za-z0-9_-]{22}\.(jpg|png|webp|gif)$/;

export interface StoredUpload {
  filename: string;
  /** the path the mobile app fetches it from */
  url: string;
  /** absolute path on disk */
  path: string;
  contentType: string;
  size: number;
  /** the file to upload to Telegram's sendPhoto: `path` itself, or a copy within its limits (only when kept `forTelegram`) */
  telegramPath?: string;
}

/** A file received but not yet kept: accepted by `keep`, or thrown away. */
export interface PendingUpload {
  tempPath: string;
  size: number;
  /** the client's name for it, only for error messages */
  clientName: string;
}

export class UploadStore {
  private readonly incomingDir: string;
  /** copies made for Telegram: never served, so outside the served names */
  private readonly telegramDir: string;

  constructor(readonly dir: string) {
    this.incomingDir = path.join(dir, ".incoming");
    this.telegramDir = path.join(dir, ".telegram");
    mkdirSync(this.incomingDir, { recursive: true });
    mkdirSync(this.telegramDir, { recursive: true });
  }

  /**
   * Streams a file to a temporary place, enforcing `maxBytes` while it is
   * read. `truncated()` tells whether the source stopped at a limit (busboy's
   * `fileSize`); such a file is refused.
   */
  async receive(source: Readable, clientName: string, truncated: () => boolean, maxBytes = MAX_PHOTO_BYTES): Promise<PendingUpload> {
    const tempPath = path.join(this.incomingDir, `${randomName()}.part`);
    let size = 0;
    source.on("data", (chunk: Buffer) => {
      size += chunk.length;
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
      throw new AppError("PAYLOAD_TOO_LARGE", `photo ${photoLabel(clientName)} is larger than ${maxBytes / (1024 * 1024)} MB`);
    }
    return { tempPath, size, clientName };
  }

  /** What a pending file is, from its header; an error naming it when it is not a photo the service takes (cheap: nothing is decoded). */
  async inspect(pending: PendingUpload): Promise<ImageInfo> {
    if (pending.size === 0) throw new AppError("BAD_REQUEST", `photo ${photoLabel(pending.clientName)} is empty`);
    return inspectImage(pending.tempPath, pending.clientName);
  }

  /**
   * Decodes a pending file and keeps it under a random name, upright and
   * without metadata: what is stored and served is the cleaned file. With
   * `forTelegram`, also says which file the group gets (see telegram-photo.ts).
   * The pending file is gone afterwards, kept or not.
   */
  async keep(pending: PendingUpload, info: ImageInfo, options: { forTelegram?: boolean } = {}): Promise<StoredUpload> {
    const base = randomName();
    const { ext, contentType } = FORMATS[info.format];
    const filename = `${base}.${ext}`;
    const finalPath = path.join(this.dir, filename);
    // Written beside the pending file and moved into place whole, so a
    // crash never leaves half a photo under a served name.
    const cleanPath = `${pending.tempPath}.clean`;
    let written;
    try {
      written = await writeCleanImage(pending.tempPath, cleanPath, info, pending.clientName);
      await rename(cleanPath, finalPath);
    } finally {
      await this.removeFiles([cleanPath, pending.tempPath]);
    }
    const stored: StoredUpload = { filename, url: `/uploads/${filename}`, path: finalPath, contentType, size: written.size };
    if (!options.forTelegram) return stored;
    const photo = { ...written, format: info.format, pages: info.pages };
    if (fitsTelegramPhoto(photo)) return { ...stored, telegramPath: finalPath };
    const copyPath = path.join(this.telegramDir, `${base}.jpg`);
    const copyTemp = `${pending.tempPath}.telegram`;
    try {
      await writeTelegramCopy(finalPath, copyTemp, photo);
      await rename(copyTemp, copyPath);
    } catch (error) {
      await this.removeFiles([copyTemp, finalPath]);
      throw error;
    }
    return { ...stored, telegramPath: copyPath };
  }

  /** Removes kept photos (and the copies made for Telegram). */
  async remove(stored: readonly StoredUpload[]): Promise<void> {
    await this.removeFiles(stored.flatMap((s) => (s.telegramPath && s.telegramPath !== s.path ? [s.path, s.telegramPath] : [s.path])));
  }

  async discard(pending: readonly PendingUpload[]): Promise<void> {
    await this.removeFiles(pending.map((p) => p.tempPath));
  }

  private async removeFiles(paths: readonly string[]): Promise<void> {
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }

  /** Stores bytes already in memory (a photo fetched from Telegram), through the same checks and cleaning as an upload. */
  async saveBuffer(bytes: Buffer, clientName: string): Promise<StoredUpload> {
    if (bytes.length > MAX_AGENT_PHOTO_BYTES) {
      throw new AppError("PAYLOAD_TOO_LARGE", `photo ${photoLabel(clientName)} is larger than ${MAX_AGENT_PHOTO_BYTES / (1024 * 1024)} MB`);
    }
    const pending: PendingUpload = { tempPath: path.join(this.incomingDir, `${randomName()}.part`), size: bytes.length, clientName };
    await writeFile(pending.tempPath, bytes, { flag: "wx" });
    try {
      return await this.keep(pending, await this.inspect(pending));
    } finally {
      await rm(pending.tempPath, { force: true });
    }
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
