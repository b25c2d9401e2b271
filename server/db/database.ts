// The database on either engine (SPEC §8): DATABASE_URL=file:… is SQLite
// (the default, one instance), postgres://… is PostgreSQL (one or more).
// Either way there are two handles:
//
// - `sql`: the stores' own connection (server/db/sql.ts), for the hot paths
//   (measured: a Prisma insert costs ~420 µs against ~40 µs for a prepared
//   statement on SQLite; ~5 ms against ~0.6 ms for pg on PostgreSQL);
// - `prisma`: Prisma's client (diary, devices), over its own driver
//   adapter and connection(s).
//
// On SQLite the two are two connections to one file (WAL lets them work
// side by side), and the rest of this comment applies:
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
import { PrismaPg } from "@prisma/adapter-pg";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { PrismaClient } from "./generated/client.js";
import { PrismaClient as PostgresPrismaClient } from "./generated-postgres/client.js";
import { applyMigrations } from "./migrate.js";
import { applyPostgresMigrations } from "./migrate-postgres.js";
import { PostgresSql, SqliteSql, type Sql } from "./sql.js";
import { sqliteGateFor, type SqliteGate } from "./sqlite-gate.js";

export type { Database } from "better-sqlite3";
export type { PrismaClient } from "./generated/client.js";

export type DbHealth = { ok: true } | { ok: false; reason: string };

export interface Db {
  engine: "sqlite" | "postgres";
  /**
   * Prisma's client. On PostgreSQL it is the client generated from
   * prisma/postgres/schema.prisma, which is generated from the SQLite
   * schema (a test keeps them in step), so both have the same models and
   * the same API; it is typed as the SQLite one.
   */
  prisma: PrismaClient;
  /** the stores' SQL (prepared statements on SQLite, a pg pool on PostgreSQL); Prisma has its own connection */
  sql: Sql;
  /** the stores' better-sqlite3 connection (backups, the outbox command); null on PostgreSQL */
  sqlite: Database | null;
  /** migrations this start applied (empty when the schema was current) */
  appliedMigrations: string[];
  /** whether both connections answer a query: the readiness check */
  ping(): Promise<DbHealth>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** file:<absolute path> (SQLite) or postgres://… */
  url: string;
  /** the engine's migrations: prisma/migrations (SQLite) or prisma/postgres/migrations (migrationsDirFor) */
  migrationsDir: string;
  /** told when PostgreSQL's notification connection drops (null: it is back) */
  onListenerProblem?(error: Error | null): void;
}

const BUSY_TIMEOUT_MS = 5000;

type AdapterFactory = Pick<PrismaBetterSQLite3, "provider" | "adapterName" | "connect">;
type SqlDriverAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type DriverTransaction = Awaited<ReturnType<SqlDriverAdapter["startTransaction"]>>;

// Per-connection settings, applied to both. WAL + NORMAL: a commit survives a
// process kill (the WAL is written before the call returns); only an OS crash
// or power loss can roll back the newest commits. journal_mode is stored in
// the file, so it is set once, by the stores' connection, before Prisma's opens.
const CONNECTION_PRAGMAS = ["synchronous = NORMAL", `busy_timeout = ${BUSY_TIMEOUT_MS}`, "foreign_keys = ON"];

/**
 * Prisma's adapter factory, with our pragmas run on each connection it
 * opens (through its public API), and every statement taking its turn
 * behind an open store transaction (server/db/sqlite-gate.ts).
 */
function prismaAdapter(file: string, gate: SqliteGate): AdapterFactory {
  const factory = new PrismaBetterSQLite3({ url: `file:${file}`, timeout: BUSY_TIMEOUT_MS });
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect(): Promise<SqlDriverAdapter> {
      const connection = await factory.connect();
      await connection.executeScript(CONNECTION_PRAGMAS.map((p) => `PRAGMA ${p};`).join("\n"));
      return gatedConnection(connection, gate);
    },
  };
}

function gatedConnection(connection: SqlDriverAdapter, gate: SqliteGate): SqlDriverAdapter {
  // Checked right before the call: the statement itself then runs synchronously, before any store transaction can begin.
  const inTurn = async <T>(call: () => Promise<T>): Promise<T> => {
    await gate.noStoreTransaction();
    return call();
  };
  return {
    provider: connection.provider,
    adapterName: connection.adapterName,
    getConnectionInfo: connection.getConnectionInfo?.bind(connection),
    dispose: () => connection.dispose(),
    queryRaw: (query) => inTurn(() => connection.queryRaw(query)),
    executeRaw: (query) => inTurn(() => connection.executeRaw(query)),
    executeScript: (script) => inTurn(() => connection.executeScript(script)),
    async startTransaction(isolationLevel) {
      const transaction = await inTurn(() => connection.startTransaction(isolationLevel));
      gate.prismaTransactionStarted();
      let ended = false;
      const end = () => {
        if (!ended) gate.prismaTransactionEnded();
        ended = true;
      };
      const gated: DriverTransaction = {
        provider: transaction.provider,
        adapterName: transaction.adapterName,
        options: transaction.options,
        queryRaw: (query) => inTurn(() => transaction.queryRaw(query)),
        executeRaw: (query) => inTurn(() => transaction.executeRaw(query)),
        commit: () => transaction.commit().finally(end),
        rollback: () => transaction.rollback().finally(end),
      };
      return gated;
    },
  };
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The committed migrations of the engine `url` names, under the project's folder. */
export function migrationsDirFor(url: string, projectRoot: string): string {
  return isPostgresUrl(url) ? path.join(projectRoot, "prisma", "postgres", "migrations") : path.join(projectRoot, "prisma", "migrations");
}

export function openDatabase(options: OpenDatabaseOptions): Promise<Db> {
  return isPostgresUrl(options.url) ? openPostgres(options) : openSqlite(options.url.replace(/^file:/, ""), options.migrationsDir);
}

async function openSqlite(file: string, migrationsDir: string): Promise<Db> {
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

    const gate = sqliteGateFor(path.resolve(file));
    prisma = new PrismaClient({ adapter: prismaAdapter(file, gate) });
    // Opens Prisma's connection now, so a problem shows at start, not at the first diary request.
    await prisma.$connect();
    return sqliteHandle(sqlite, prisma, applied, gate);
  } catch (error) {
    await prisma?.$disconnect().catch(() => undefined);
    sqlite.close();
    throw error;
  }
}

function sqliteHandle(sqlite: Database, prisma: PrismaClient, appliedMigrations: string[], gate: SqliteGate): Db {
  const probe = sqlite.prepare("SELECT count(*) FROM sqlite_master").pluck();
  const sql = new SqliteSql(sqlite, false, gate);
  let closed = false;
  return {
    engine: "sqlite",
    prisma,
    sql,
    sqlite,
    appliedMigrations,
    async ping() {
      if (closed) return { ok: false, reason: "the database is closed" };
      try {
        probe.get();
        await prisma.$queryRaw`SELECT 1`;
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: `the database does not answer: ${messageOf(error)}` };
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await sql.close();
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

async function openPostgres({ url, migrationsDir, onListenerProblem }: OpenDatabaseOptions): Promise<Db> {
  const { applied } = await applyPostgresMigrations(url, migrationsDir);
  const sql = new PostgresSql({ connectionString: url, onListenerProblem });
  const client = new PostgresPrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  // One schema, two generated clients: the models and their API are the
  // same (see Db.prisma); only $transaction's isolation levels differ.
  const prisma = client as unknown as PrismaClient;
  try {
    await prisma.$connect();
  } catch (error) {
    await sql.close();
    throw error;
  }
  let closed = false;
  return {
    engine: "postgres",
    prisma,
    sql,
    sqlite: null,
    appliedMigrations: applied,
    async ping() {
      if (closed) return { ok: false, reason: "the database is closed" };
      try {
        await sql.get("SELECT 1 AS ok");
        await prisma.$queryRaw`SELECT 1`;
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: `PostgreSQL does not answer: ${messageOf(error)}` };
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect().catch(() => undefined);
      await sql.close();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
