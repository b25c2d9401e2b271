// The `leases` table on either engine: one row per job only one process may
// do at a time. Every change is one statement judged on the database's
// clock, so the processes' own clocks never decide who holds a lease.
//
// `epoch` changes whenever the holder changes (never on a renewal by the
// same holder), so a write that carries the epoch it was planned under can
// be refused once someone else took over: the fence.
import type { Dialect, SqlRunner } from "../db/sql.js";

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
  /** Whether `epoch` is still the unexpired holder's epoch of `name`: the fence (inside `tx`, when given). */
  holds(name: string, epoch: number, tx?: SqlRunner): Promise<boolean>;
  /** How long until the current holder's lease runs out (database clock); null when there is no row. */
  expiresInMs(name: string): Promise<number | null>;
}

/** The database's now, and now + ? milliseconds, in each dialect. */
const CLOCK: Record<Dialect, { now: string; later: string; remainingMs: string; longAgo: string }> = {
  // Prisma's text form of a DateTime on SQLite (server/db/time.ts), so the
  // column reads back through Prisma too; one format keeps text comparison
  // the same as time comparison.
  sqlite: {
    now: `strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')`,
    later: `strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', printf('+%.3f seconds', ? / 1000.0))`,
    remainingMs: `(julianday(expires_at) - julianday('now')) * 86400000.0`,
    longAgo: `'1970-01-01T00:00:00.000+00:00'`,
  },
  postgres: {
    now: `now()`,
    later: `now() + CAST(? AS integer) * interval '1 millisecond'`,
    remainingMs: `extract(epoch FROM expires_at - now())::float8 * 1000`,
    longAgo: `to_timestamp(0)`,
  },
};

/** On the stores' SQL (either engine); `holds` on a transaction is the fence inside it. */
export class SqlLeaseStore implements LeaseStore {
  private readonly clock;

  constructor(private readonly q: SqlRunner) {
    this.clock = CLOCK[q.dialect];
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<LeaseGrant | null> {
    const { now, later } = this.clock;
    const row = await this.q.get<{ epoch: number }>(
      `INSERT INTO leases (name, owner, epoch, expires_at) VALUES (?, ?, 1, ${later})
       ON CONFLICT (name) DO UPDATE SET
         epoch = CASE WHEN leases.owner = excluded.owner THEN leases.epoch ELSE leases.epoch + 1 END,
         owner = excluded.owner,
         expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= ${now}
       RETURNING epoch`,
      [name, owner, Math.round(ttlMs)],
    );
    return row ? { epoch: row.epoch } : null;
  }

  async release(name: string, owner: string, epoch: number): Promise<void> {
    await this.q.run(`UPDATE leases SET expires_at = ${this.clock.longAgo} WHERE name = ? AND owner = ? AND epoch = ?`, [name, owner, epoch]);
  }

  /**
   * `tx`: a transaction of the caller's, where this is the fence of the
   * writes that follow. On PostgreSQL FOR SHARE keeps the row as it is
   * until that transaction ends, so a takeover's upsert waits for the
   * fenced write to commit instead of slipping in between (SQLite has one
   * writer, so nothing slips in there).
   */
  async holds(name: string, epoch: number, tx: SqlRunner = this.q): Promise<boolean> {
    const lock = tx.dialect === "postgres" && tx !== this.q ? " FOR SHARE" : "";
    return (await tx.get(`SELECT 1 AS held FROM leases WHERE name = ? AND epoch = ? AND expires_at > ${CLOCK[tx.dialect].now}${lock}`, [name, epoch])) !== undefined;
  }

  async expiresInMs(name: string): Promise<number | null> {
    const row = await this.q.get<{ ms: number }>(`SELECT ${this.clock.remainingMs} AS ms FROM leases WHERE name = ?`, [name]);
    return row?.ms ?? null;
  }
}
