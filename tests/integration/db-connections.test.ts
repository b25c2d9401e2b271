// Prisma and the stores' prepared statements write to one SQLite file over
// two connections: a Prisma transaction that rolls back never takes a
// support message with it, Prisma writes and hot-path writes interleave
// without waiting on each other, and both connections run with the same
// settings (foreign keys, WAL, busy timeout).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { openDatabase, type Db } from "../../server/db/database.js";
import { MessageStore } from "../../server/support/message-store.js";
import { MIGRATIONS_DIR } from "./diary-setup.js";
import { sqliteOf } from "../fixtures/test-app.js";

let dir: string;
let db: Db;
let messages: MessageStore;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "db-connections-"));
  db = await openDatabase({ url: `file:${path.join(dir, "app.db")}`, migrationsDir: MIGRATIONS_DIR });
  messages = new MessageStore(db.sql);
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const userMessage = (userId: string, text: string) => ({ userId, userName: null, text, direction: "user" as const, photoUrls: [] });

test("a Prisma transaction that fails and rolls back keeps the support message stored meanwhile", async () => {
  await expect(
    db.prisma.$transaction(async (tx) => {
      await tx.diaryUser.findMany({ take: 1 });
      await messages.insert(userMessage("rollback-user", "пришло во время транзакции"));
      throw new Error("the diary work failed");
    }),
  ).rejects.toThrow("the diary work failed");
  expect((await messages.history("rollback-user", 10)).map((m) => m.text)).toEqual(["пришло во время транзакции"]);
});

test("Prisma writes (single, batched, updateMany) and hot-path writes interleave, and every one of them lands", async () => {
  await db.prisma.diaryUser.create({ data: { id: 77n, firstName: "Ира" } });
  const rounds = 60;
  const prismaWork = (async () => {
    for (let i = 0; i < rounds; i++) {
      if (i % 3 === 0) {
        await db.prisma.$transaction([db.prisma.note.create({ data: { userId: 77n, text: `batch-${i}-a` } }), db.prisma.note.create({ data: { userId: 77n, text: `batch-${i}-b` } })]);
      } else if (i % 3 === 1) {
        // a Prisma call that is a transaction of its own (BEGIN, SELECT, UPDATE, COMMIT)
        await db.prisma.note.create({ data: { userId: 77n, text: `single-${i}` } });
        await db.prisma.note.updateMany({ where: { userId: 77n, text: `single-${i}` }, data: { text: `updated-${i}` } });
      } else {
        await db.prisma.note.create({ data: { userId: 77n, text: `single-${i}` } });
      }
    }
  })();
  // The hot path runs from its own macrotasks, as request handlers do.
  let slowest = 0;
  const storeWork = (async () => {
    for (let i = 0; i < rounds * 2; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      const started = performance.now();
      await messages.insert(userMessage("interleave-user", `hot-${i}`));
      slowest = Math.max(slowest, performance.now() - started);
    }
  })();
  await Promise.all([prismaWork, storeWork]);

  expect(await db.prisma.note.count({ where: { userId: 77n } })).toBe(rounds + rounds / 3);
  expect(await db.prisma.note.count({ where: { userId: 77n, text: { startsWith: "updated-" } } })).toBe(rounds / 3);
  expect((await messages.history("interleave-user", 1000)).map((m) => m.text)).toEqual(Array.from({ length: rounds * 2 }, (_, i) => `hot-${i}`));
  // a store write that found Prisma's write lock would busy-wait for the
  // 5 s busy timeout; none may come near it
  expect(slowest).toBeLessThan(1000);
});

test("both connections enforce foreign keys, use WAL and wait for a busy database", async () => {
  const prismaPragma = async (name: string) => {
    const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(`PRAGMA ${name}`);
    return String(Object.values(rows[0] ?? {})[0]);
  };
  for (const [name, expected] of [["foreign_keys", "1"], ["journal_mode", "wal"], ["busy_timeout", "5000"], ["synchronous", "1"]] as const) {
    expect(String(sqliteOf(db).pragma(name, { simple: true })), `stores' ${name}`).toBe(expected);
    expect(await prismaPragma(name), `Prisma's ${name}`).toBe(expected);
  }
});

test("ping answers while the database is open and says why not after it closed", async () => {
  expect(await db.ping()).toEqual({ ok: true });
  await db.close();
  expect(await db.ping()).toEqual({ ok: false, reason: "the database is closed" });
});

// A store transaction spans a few microtasks (server/db/sql.ts); a Prisma
// write that gets in between must wait for it (server/db/sqlite-gate.ts):
// on the SQLite lock it would block the event loop, so the transaction
// could never commit, and both would fail after the busy timeout.
test("Prisma writes that arrive while a store transaction is open wait their turn, in a Prisma transaction too", async () => {
  await db.prisma.diaryUser.create({ data: { id: 91n, firstName: "Очередь" } });
  const started = performance.now();
  let prismaWrites: Promise<unknown> = Promise.resolve();
  await db.sql.transaction(async (tx) => {
    const inTx = new MessageStore(tx);
    await inTx.insert(userMessage("turns-user", "в транзакции"));
    prismaWrites = Promise.all([
      db.prisma.note.create({ data: { userId: 91n, text: "пока открыта" } }),
      db.prisma.$transaction(async (ptx) => ptx.note.create({ data: { userId: 91n, text: "своя транзакция" } })),
    ]);
    // Long enough for Prisma's statements to reach the database (a rule break the gate must survive).
    await new Promise((resolve) => setTimeout(resolve, 50));
    await inTx.insert(userMessage("turns-user", "после"));
  });
  await prismaWrites;
  expect(performance.now() - started).toBeLessThan(2_000);
  expect((await messages.history("turns-user", 10)).map((m) => m.text)).toEqual(["в транзакции", "после"]);
  expect(await db.prisma.note.count({ where: { userId: 91n } })).toBe(2);
});
