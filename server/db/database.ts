// Two connections to one SQLite file (WAL lets them work side by side):
//
// - `sqlite`: the stores' own better-sqlite3 connection, for the hot paths
//   that use prepared statements (measured: a Prisma insert costs ~420 µs
//   against ~40 µs for a prepared statement on this machine);
// - Prisma's, opened and owned by its driver adapter.
//
// Apart, a Prisma transaction can never absorb a store write or roll it back.
// The price is SQLite's one-writer lock, now shared by two connections of one
// process, and better-sqlite3 is synchronous: a store statement that finds
// the lock held by Prisma's connection busy-waits, blocking the event loop,
// so Prisma (which would release it) cannot run, and it fails after
// BUSY_TIMEOUT_MS. Hence the rule:
//
//   No Prisma write transaction stays open across an await of anything but
//   its own statements: no interactive `$transaction(async (tx) => …)` that
//   writes and then awaits I/O, a timer or a store call.
//
// Most Prisma calls are one statement that commits inside one synchronous
// driver call, and the stores' transactions are synchronous functions, so
// neither holds the lock while other code runs. Some Prisma calls are a
// transaction of their own (measured with Prisma 6.19: `updateMany`; nested
// writes would be too): its BEGIN … COMMIT spans a few microtasks but no
// macrotask, so a store write from another request, a timer or an event
// (each its own macrotask) never meets it. A store write started in the
// same chain alongside it (`Promise.all([prisma.x.updateMany(…), store…])`)
// can, so keep Prisma writes and store writes of one piece of work in
// sequence. Today nothing in server/ uses `$transaction` (interactive or
// batched). The busy timeout still matters for other processes on the same
// file (the outbox and backup commands).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { PrismaClient } from "./generated/client.js";
import { applyMigrations } from "./migrate.js";

export type { Database } from "better-sqlite3";
export type { PrismaClient } from "./generated/client.js";

export type DbHealth = { ok: true } | { ok: false; reason: string };

export interface Db {
  prisma: PrismaClient;
  /** the stores' connection (prepared statements); Prisma has its own */
  sqlite: Database;
  /** migrations this start applied (empty when the schema was current) */
  appliedMigrations: string[];
  /** whether both connections answer a query: the readiness check */
  ping(): Promise<DbHealth>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** absolute path of the SQLite file */
  file: string;
  migrationsDir: string;
}

const BUSY_TIMEOUT_MS = 5000;

type AdapterFactory = Pick<PrismaBetterSQLite3, "provider" | "adapterName" | "connect">;
type SqlDriverAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;

// Per-connection settings, applied to both. WAL + NORMAL: a commit survives a
// process kill (the WAL is written before the call returns); only an OS crash
// or power loss can roll back the newest commits. journal_mode is stored in
// the file, so it is set once, by the stores' connection, before Prisma's opens.
const CONNECTION_PRAGMAS = ["synchronous = NORMAL", `busy_timeout = ${BUSY_TIMEOUT_MS}`, "foreign_keys = ON"];

/** Prisma's adapter factory, with our pragmas run on each connection it opens (through its public API). */
function prismaAdapter(file: string): AdapterFactory {
  const factory = new PrismaBetterSQLite3({ url: `file:${file}`, timeout: BUSY_TIMEOUT_MS });
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect(): Promise<SqlDriverAdapter> {
      const connection = await factory.connect();
      await connection.executeScript(CONNECTION_PRAGMAS.map((p) => `PRAGMA ${p};`).join("\n"));
      return connection;
    },
  };
}

export async function openDatabase({ file, migrationsDir }: OpenDatabaseOptions): Promise<Db> {
  mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS });
  let prisma: PrismaClient | null = null;
  try {
    sqlite.pragma("journal_mode = WAL");
    // foreign_keys stays off until the migrations ran: applyMigrations
    // switches it off around each one anyway, and a fresh connection starts off.
    for (const pragma of CONNECTION_PRAGMAS.filter((p) => !p.startsWith("foreign_keys"))) sqlite.pragma(pragma);
    const { applied } = applyMigrations(sqlite, migrationsDir);
    sqlite.pragma("foreign_keys = ON");

    prisma = new PrismaClient({ adapter: prismaAdapter(file) });
    // Opens Prisma's connection now, so a problem shows at start, not at the first diary request.
    await prisma.$connect();
    return handle(sqlite, prisma, applied);
  } catch (error) {
    await prisma?.$disconnect().catch(() => undefined);
    sqlite.close();
    throw error;
  }
}

function handle(sqlite: Database, prisma: PrismaClient, appliedMigrations: string[]): Db {
  const probe = sqlite.prepare("SELECT count(*) FROM sqlite_master").pluck();
  let closed = false;
  return {
    prisma,
    sqlite,
    appliedMigrations,
    async ping() {
      if (closed) return { ok: false, reason: "the database is closed" };
      try {
        probe.get();
        await prisma.$queryRaw`SELECT 1`;
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: `the database does not answer: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect().catch(() => undefined);
      if (sqlite.open) {
        try {
          sqlite.pragma("wal_checkpoint(TRUNCATE)");
        } catch {
          // another process may hold the WAL; it is checkpointed later
        }
        sqlite.close();
      }
    },
  };
}
