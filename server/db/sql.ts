// The stores' SQL, once, for both engines. A store writes its statements
// with `?` placeholders in the SQL both SQLite and PostgreSQL accept, and
// runs them through a SqlRunner; where the dialects really differ (time
// arithmetic, locks) it asks `dialect`. One implementation per store means
// one behaviour, tested on both engines by the same contract tests.
//
// SQLite (better-sqlite3) is synchronous: a statement runs inside the call
// and its promise is already settled, so a store transaction (BEGIN
// IMMEDIATE … COMMIT) completes within the macrotask that started it, as
// the synchronous `db.transaction(fn)` did, and keeps its speed (prepared
// statements, cached per SQL text). While one is open, statements from
// other work wait for it instead of joining it on the shared connection,
// and so do Prisma's (server/db/sqlite-gate.ts).
// Hence the rule for transaction bodies: await only the transaction's own
// statements, never a network call or a timer.
//
// PostgreSQL (pg): each transaction has one pooled client from BEGIN to
// COMMIT; statements outside a transaction take any client of the pool.
import { EventEmitter } from "node:events";
import type { Database, Statement } from "better-sqlite3";
import pg from "pg";
import { SqliteGate } from "./sqlite-gate.js";
import { fromSqliteTime, toSqliteTime } from "./time.js";

export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | bigint | null | Date;

export interface SqlRunner {
  readonly dialect: Dialect;
  /** the first row, or undefined */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** runs a statement; resolves to the number of rows it changed */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Tells the listeners of `channel` (in every process on this database,
   * on PostgreSQL) once the transaction commits; at once outside one.
   */
  notify(channel: string, payload: string): Promise<void>;
}

export interface Sql extends SqlRunner {
  /** `work` inside one transaction: committed when it resolves, rolled back when it throws */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** calls `listener` with each payload notified on `channel`; returns the unsubscribe */
  listen(channel: string, listener: (payload: string) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** A time column read back: SQLite keeps text (server/db/time.ts), pg gives a Date. */
export type SqlTime = string | Date;

// ---------------------------------------------------------------- SQLite

/** On the stores' better-sqlite3 connection (server/db/database.ts). */
export class SqliteSql implements Sql {
  readonly dialect = "sqlite";
  private readonly statements = new Map<string, Statement>();
  private readonly signals = new EventEmitter();
  /** notifications of the open transaction, emitted once it commits */
  private readonly pendingSignals: [string, string][] = [];
  private readonly tx: SqlRunner;

  /**
   * `owned`: close() closes the connection too (else its opener does);
   * `gate`: shared with the process's other connections to the file.
   */
  constructor(
    private readonly db: Database,
    private readonly owned = false,
    private readonly gate = new SqliteGate(),
  ) {
    this.signals.setMaxListeners(0);
    this.tx = {
      dialect: "sqlite",
      get: (sql, params) => Promise.resolve(this.getNow(sql, params)),
      all: (sql, params) => Promise.resolve(this.allNow(sql, params)),
      run: (sql, params) => Promise.resolve(this.runNow(sql, params)),
      notify: (channel, payload) => {
        this.pendingSignals.push([channel, payload]);
        return Promise.resolve();
      },
    };
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    if (this.gate.storeTransactionOpen) await this.gate.noStoreTransaction();
    return this.getNow<T>(sql, params);
  }

  async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    if (this.gate.storeTransactionOpen) await this.gate.noStoreTransaction();
    return this.allNow<T>(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    if (this.gate.storeTransactionOpen) await this.gate.noStoreTransaction();
    return this.runNow(sql, params);
  }

  notify(channel: string, payload: string): Promise<void> {
    this.signals.emit(channel, payload);
    return Promise.resolve();
  }

  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const result = await this.gate.storeWork(async () => {
      this.pendingSignals.length = 0;
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const value = await work(this.tx);
        this.db.exec("COMMIT");
        return value;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        this.pendingSignals.length = 0;
        throw error;
      }
    });
    const signals = this.pendingSignals.splice(0);
    for (const [channel, payload] of signals) this.signals.emit(channel, payload);
    return result;
  }

  listen(channel: string, listener: (payload: string) => void): Promise<() => void> {
    this.signals.on(channel, listener);
    return Promise.resolve(() => void this.signals.off(channel, listener));
  }

  close(): Promise<void> {
    this.statements.clear();
    this.signals.removeAllListeners();
    if (this.owned && this.db.open) this.db.close();
    return Promise.resolve();
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private getNow<T>(sql: string, params: readonly SqlValue[] = []): T | undefined {
    return this.statement(sql).get(...params.map(sqliteValue)) as T | undefined;
  }

  private allNow<T>(sql: string, params: readonly SqlValue[] = []): T[] {
    return this.statement(sql).all(...params.map(sqliteValue)) as T[];
  }

  private runNow(sql: string, params: readonly SqlValue[] = []): number {
    return this.statement(sql).run(...params.map(sqliteValue)).changes;
  }
}

function sqliteValue(value: SqlValue): string | number | bigint | null {
  return value instanceof Date ? toSqliteTime(value) : value;
}

// ------------------------------------------------------------ PostgreSQL

// BIGINT (chat ids, counts) as numbers: Telegram's ids fit in 2^53, and the
// stores compare them with numbers. NUMERIC stays text (nothing uses it).
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format: "text" | "binary" = "text") {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return format === "binary" ? pg.types.getTypeParser(oid, "binary") : pg.types.getTypeParser(oid, "text");
  },
} as pg.CustomTypesConfig;

/** `?` → `$1, $2, …` outside quoted text (the stores write `?` for both engines). */
export function toPostgresPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = null;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else if (char === "?") {
      out += `$${++n}`;
    } else {
      out += char;
    }
  }
  return out;
}

type Queryable = Pick<pg.ClientBase, "query">;

class PostgresRunner implements SqlRunner {
  readonly dialect = "postgres";
  constructor(
    private readonly client: Queryable,
    private readonly texts: Map<string, string>,
  ) {}

  private text(sql: string): string {
    let text = this.texts.get(sql);
    if (text === undefined) {
      text = toPostgresPlaceholders(sql);
      this.texts.set(sql, text);
    }
    return text;
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    const { rows } = await this.client.query(this.text(sql), params.map(postgresValue));
    return rows[0] as T | undefined;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const { rows } = await this.client.query(this.text(sql), params.map(postgresValue));
    return rows as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.client.query(this.text(sql), params.map(postgresValue));
    return result.rowCount ?? 0;
  }

  async notify(channel: string, payload: string): Promise<void> {
    // Inside a transaction PostgreSQL holds it until COMMIT (and drops it on ROLLBACK).
    await this.client.query("SELECT pg_notify($1, $2)", [channel, payload]);
  }
}

function postgresValue(value: SqlValue): string | number | null | Date {
  return typeof value === "bigint" ? value.toString() : value;
}

export interface PostgresSqlOptions {
  connectionString: string;
  /** pool size per process (default 10) */
  max?: number;
  /** told when the LISTEN connection drops or comes back */
  onListenerProblem?(error: Error | null): void;
}

/** "the PostgreSQL database <name> on <host:port>": a URL's place for log and error lines, never its user or password. */
export function postgresPlace(url: string): string {
  const where = new URL(url);
  return `the PostgreSQL database ${where.pathname.slice(1)} on ${where.host}`;
}

/** On a `pg` pool; LISTEN on one connection of its own, reopened when it drops. */
export class PostgresSql implements Sql {
  readonly dialect = "postgres";
  readonly pool: pg.Pool;
  private readonly texts = new Map<string, string>();
  private readonly direct: PostgresRunner;
  private readonly signals = new EventEmitter();
  private listener: Promise<pg.Client> | null = null;
  private closed = false;

  constructor(private readonly options: PostgresSqlOptions) {
    this.signals.setMaxListeners(0);
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10, types: pgTypes });
    // An idle client that dies (a server restart) must not crash the process; the pool replaces it.
    this.pool.on("error", () => undefined);
    this.direct = new PostgresRunner(this.pool, this.texts);
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.direct.get<T>(sql, params);
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  notify(channel: string, payload: string): Promise<void> {
    return this.direct.notify(channel, payload);
  }

  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        const result = await work(new PostgresRunner(client, this.texts));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      }
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: the pool drops it.
      client.release(broken);
    }
  }

  async listen(channel: string, listener: (payload: string) => void): Promise<() => void> {
    const first = this.signals.listenerCount(channel) === 0;
    this.signals.on(channel, listener);
    if (first) {
      const client = await this.listenerClient();
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    }
    return () => void this.signals.off(channel, listener);
  }

  private listenerClient(): Promise<pg.Client> {
    this.listener ??= (async () => {
      const client = new pg.Client({ connectionString: this.options.connectionString, types: pgTypes });
      client.on("notification", (message) => this.signals.emit(message.channel, message.payload ?? ""));
      client.on("error", (error) => this.listenerLost(client, error));
      client.on("end", () => this.listenerLost(client, new Error("the LISTEN connection ended")));
      await client.connect();
      return client;
    })().catch((error: unknown) => {
      this.listener = null;
      throw error;
    });
    return this.listener;
  }

  /** Reconnects and listens again; what was notified meanwhile is covered by the listeners' slow polls. */
  private listenerLost(client: pg.Client, error: Error): void {
    if (this.closed) return;
    void this.listener?.then((current) => {
      if (current !== client) return;
      this.listener = null;
      this.options.onListenerProblem?.(error);
      const channels = this.signals.eventNames().filter((name): name is string => typeof name === "string");
      const retry = () => {
        if (this.closed) return;
        this.listenerClient()
          .then(async (fresh) => {
            for (const channel of channels) await fresh.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
            this.options.onListenerProblem?.(null);
          })
          .catch(() => setTimeout(retry, 1_000).unref());
      };
      retry();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signals.removeAllListeners();
    const listener = this.listener;
    this.listener = null;
    if (listener) await listener.then((client) => client.end()).catch(() => undefined);
    await this.pool.end();
  }
}

/** A time column as a Date, from either engine. */
export function readTime(value: SqlTime): Date;
export function readTime(value: SqlTime | null): Date | null;
export function readTime(value: SqlTime | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : fromSqliteTime(value);
}
