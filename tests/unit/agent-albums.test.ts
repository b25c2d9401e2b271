// The album collector on a real migrated SQLite database: an album waits
// for an item whose photo is still downloading, goes out once, and a late
// or repeated item is no second message.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { openDatabase, type Db } from "../../server/db/database.js";
import { AgentAlbums, type AlbumItem, type CollectedAlbum } from "../../server/telegram/agent-albums.js";
import { PROJECT_ROOT, quietLogger } from "../fixtures/test-app.js";

let dir: string;
let db: Db;
let delivered: CollectedAlbum[];
let albums: AgentAlbums;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "albums-"));
  db = await openDatabase({ url: `file:${path.join(dir, "t.db")}`, migrationsDir: path.join(PROJECT_ROOT, "prisma", "migrations") });
  delivered = [];
  albums = new AgentAlbums({ sql: db.sql, logger: quietLogger(), quietMs: 100, deliver: async (album) => void delivered.push(album) });
  await albums.start();
});
afterEach(async () => {
  await albums.stop();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const item = (id: number, extra: Partial<AlbumItem> = {}): AlbumItem => ({
  chatId: -100123, telegramMessageId: id, mediaGroupId: "g1", userId: "u1", kind: "photo", photoUrl: `/uploads/${id}.png`, caption: "", ...extra,
});
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("an item still downloading holds its album; then it goes out once, in message order, with the caption", async () => {
  expect(await albums.add(item(11, { caption: "подпись" }))).toBe("kept");
  const downloading = albums.arrive(-100123, "g1");
  await pause(300);
  expect(delivered).toEqual([]);
  expect(await albums.add(item(10))).toBe("kept");
  downloading();
  await pause(300);
  expect(delivered).toHaveLength(1);
  expect(delivered[0]).toMatchObject({ firstMessageId: 10, text: "подпись", photoUrls: ["/uploads/10.png", "/uploads/11.png"], firstOtherMessageId: null });
});

test("a repeated item is kept once; a late one (album delivered) is not a second message", async () => {
  await albums.add(item(20));
  expect(await albums.add(item(20))).toBe("duplicate");
  await pause(300);
  expect(delivered).toHaveLength(1);
  expect(await albums.add(item(21))).toBe("late");
  await pause(300);
  expect(delivered).toHaveLength(1);
});
