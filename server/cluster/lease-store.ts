// The `leases` table on either engine: one row per job only one process may
// do at a time. Every change is one statement judged on the database's
// clock, so the processes' own clocks never decide who holds a lease.
//
// `epoch` changes whenever the holder changes (never on a renewal by the
// same holder), so a write that carries the epoch it was planned under can
// be refused once someone else took over: the fence.
import type { Database } from "better-sqlite3";
import type pg from "pg";

export interface LeaseGrant {
  epoch: number;
}

export interface LeaseStore {
  /**
   * Takes `name` for `owner` for `ttlMs` (from the database's now) when it
   * is free, expired or already `owner`'s; null while someone else holds it.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | null>;
  /** Gives the lease up at once (it expires now), if `owner` still holds it at `epoch`. */
  release(name: string, owner: string, epoch: number): Promise<void>;
  /** Whether `epoch` is still the unexpired holder's epoch of `name`: the fence. */
  holds(name: string, epoch: number): Promise<boolean>;
  /** How long until the current holder's lease runs out (database clock); null when there is no row. */
  expiresInMs(name: string): Promise<number | null>;
}

// Prisma's text form of a DateTime on SQLite (server/db/time.ts), so the
// column reads back through Prisma too; one format keeps text comparison
// the same as time comparison.
const SQLITE_NOW = `strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')`;
const SQLITE_LATER = `strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', ?)`;
const LONG_AGO = "1970-01-01T00:00:00.000+00:00";

/** On the stores' better-sqlite3 connection; `holdsNow` is the fence inside a synchronous transaction. */
export class SqliteLeaseStore implements LeaseStore {
  private readonly upsert;
  private readonly giveUp;
  private readonly current;

  constructor(db: Database) {
    this.upsert = db.prepare<[string, string, string], { epoch: number }>(
      `INSERT INTO leases (name, owner, epoch, expires_at) VALUES (?, ?, 1, ${SQLITE_LATER})
       ON CONFLICT (name) DO UPDATE SET
         epoch = CASE WHEN leases.owner = excluded.owner THEN leases.epoch ELSE leases.epoch + 1 END,
         owner = excluded.owner,
         expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= ${SQLITE_NOW}
       RETURNING epoch`,
    );
    this.giveUp = db.prepare<[string, string, string, number]>(`UPDATE leases SET expires_at = ? WHERE name = ? AND owner = ? AND epoch = ?`);
    this.current = db.prepare<[string, number], number>(`SELECT 1 FROM leases WHERE name = ? AND epoch = ? AND expires_at > ${SQLITE_NOW}`).pluck();
    this.remaining = db.prepare<[string], number>(`SELECT (julianday(expires_at) - julianday('now')) * 86400000.0 FROM leases WHERE name = ?`).pluck();
  }

  private readonly remaining;

  expiresInMs(name: string): Promise<number | null> {
    return Promise.resolve(this.remaining.get(name) ?? null);
  }

  acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | null> {
    return Promise.resolve(this.acquireNow(name, owner, ttlMs));
  }

  acquireNow(name: string, owner: string, ttlMs: number): LeaseGrant | null {
    const row = this.upsert.get(name, owner, `+${(ttlMs / 1000).toFixed(3)} seconds`);
    return row ? { epoch: row.epoch } : null;
  }

  release(name: string, owner: string, epoch: number): Promise<void> {
    this.giveUp.run(LONG_AGO, name, owner, epoch);
    return Promise.resolve();
  }

  holds(name: string, epoch: number): Promise<boolean> {
    return Promise.resolve(this.holdsNow(name, epoch));
  }

  holdsNow(name: string, epoch: number): boolean {
    return this.current.get(name, epoch) !== undefined;
  }
}

/** A write refused because the lease it was planned under has moved on. */
export class LeaseFenceError extends Error {
  constructor(name: string, epoch: number) {
    super(`the ${name} lease is no longer held at epoch ${epoch}: another instance took over, so this write is refused`);
    this.name = "LeaseFenceError";
  }
}

/** On a `pg` pool (or one client): the same statements in PostgreSQL's dialect. */
export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly db: Pick<pg.Pool, "query">) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | null> {
    const { rows } = await this.db.query<{ epoch: number }>(
      `INSERT INTO leases (name, owner, epoch, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET
         epoch = CASE WHEN leases.owner = excluded.owner THEN leases.epoch ELSE leases.epoch + 1 END,
         owner = excluded.owner,
         expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= now()
       RETURNING epoch`,
      [name, owner, ttlMs],
    );
    return rows[0] ? { epoch: rows[0].epoch } : null;
  }

  async release(name: string, owner: string, epoch: number): Promise<void> {
    await this.db.query(`UPDATE leases SET expires_at = to_timestamp(0) WHERE name = $1 AND owner = $2 AND epoch = $3`, [name, owner, epoch]);
  }

  async holds(name: string, epoch: number): Promise<boolean> {
    const { rows } = await this.db.query(`SELECT 1 FROM leases WHERE name = $1 AND epoch = $2 AND expires_at > now()`, [name, epoch]);
    return rows.length > 0;
  }

  /**
   * The fence inside a transaction on `client` (BEGIN already sent): throws
   * LeaseFenceError unless `epoch` still holds `name`. FOR SHARE keeps the
   * row as it is until the transaction ends, so a takeover's upsert waits
   * for this write to commit instead of slipping in between.
   */
  static async fence(client: Pick<pg.ClientBase, "query">, name: string, epoch: number): Promise<void> {
    const { rows } = await client.query(`SELECT 1 FROM leases WHERE name = $1 AND epoch = $2 AND expires_at > now() FOR SHARE`, [name, epoch]);
    if (rows.length === 0) throw new LeaseFenceError(name, epoch);
  }

  async expiresInMs(name: string): Promise<number | null> {
    const { rows } = await this.db.query<{ ms: number }>(`SELECT extract(epoch FROM expires_at - now())::float8 * 1000 AS ms FROM leases WHERE name = $1`, [name]);
    return rows[0]?.ms ?? null;
  }
}
