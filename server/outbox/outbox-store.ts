// The outbox table: every outgoing call is a row here before it is made, so
// a crash, an outage or a restart loses nothing. Prepared statements: jobs
// are written on the hot path of /send_message.
//
// A job that is set aside (refused every way it was tried, or skipped by an
// operator) stays in the table with the reason, out of its lane: the lanes
// read only the jobs still in line. Retrying it puts it back where its id
// says, so order among the rest is kept.
import type { Database, Statement } from "better-sqlite3";
import { fromSqliteTime, toSqliteTime } from "../db/time.js";

export type Lane = "telegram" | "push";

export interface OutboxJob<P = unknown> {
  id: number;
  lane: Lane;
  kind: string;
  userId: string;
  messageId: number | null;
  payload: P;
  attempts: number;
  nextAttemptAt: Date;
  /** why the last attempt failed, if it did */
  lastError: string | null;
  createdAt: Date;
  /** set when the job is out of the lane's way; null while it is in line */
  setAsideAt: Date | null;
  setAsideReason: string | null;
}

export interface NewJob<P> {
  lane: Lane;
  kind: string;
  userId: string;
  messageId: number | null;
  payload: P;
}

interface JobRow {
  id: number;
  lane: string;
  kind: string;
  user_id: string;
  message_id: number | null;
  payload: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  set_aside_at: string | null;
  set_aside_reason: string | null;
}

const COLUMNS = "id, lane, kind, user_id, message_id, payload, attempts, next_attempt_at, last_error, created_at, set_aside_at, set_aside_reason";
const IN_LINE = "set_aside_at IS NULL";

export interface LaneStats {
  /** jobs in line (not set aside) */
  depth: number;
  oldestCreatedAt: Date | null;
}

export interface SetAsideStats {
  count: number;
  /** the most recently set-aside job's reason */
  latestReason: string | null;
  latestAt: Date | null;
}

/** Reasons are kept short: they are shown in /health and tables. */
const REASON_MAX = 500;

export class OutboxStore {
  private readonly insertStmt: Statement<[string, string, string, number | null, string, string, string]>;
  private readonly headStmt: Statement<[string]>;
  private readonly dueStmt: Statement<[string, string, number]>;
  private readonly nextDueStmt: Statement<[string]>;
  private readonly payloadStmt: Statement<[string, number]>;
  private readonly rescheduleStmt: Statement<[number, string, string | null, number]>;
  private readonly removeStmt: Statement<[number]>;
  private readonly statsStmt: Statement<[string]>;
  private readonly setAsideStmt: Statement<[string, string, number]>;
  private readonly setAsideStatsStmt: Statement<[string]>;
  private readonly latestSetAsideStmt: Statement<[string]>;
  private readonly backInLineStmt: Statement<[string, number]>;
  private readonly byIdStmt: Statement<[number]>;
  private readonly listStmt: Statement<[]>;

  constructor(db: Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO outbox (lane, kind, user_id, message_id, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.headStmt = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE lane = ? AND ${IN_LINE} ORDER BY id LIMIT 1`);
    this.dueStmt = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE lane = ? AND ${IN_LINE} AND next_attempt_at <= ? ORDER BY id LIMIT ?`);
    this.nextDueStmt = db.prepare(`SELECT MIN(next_attempt_at) AS at FROM outbox WHERE lane = ? AND ${IN_LINE}`);
    this.payloadStmt = db.prepare(`UPDATE outbox SET payload = ? WHERE id = ?`);
    this.rescheduleStmt = db.prepare(`UPDATE outbox SET attempts = attempts + ?, next_attempt_at = ?, last_error = ? WHERE id = ?`);
    this.removeStmt = db.prepare(`DELETE FROM outbox WHERE id = ?`);
    this.statsStmt = db.prepare(`SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE lane = ? AND ${IN_LINE}`);
    this.setAsideStmt = db.prepare(`UPDATE outbox SET set_aside_at = ?, set_aside_reason = ? WHERE id = ? AND ${IN_LINE}`);
    this.setAsideStatsStmt = db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE lane = ? AND set_aside_at IS NOT NULL`);
    this.latestSetAsideStmt = db.prepare(
      `SELECT set_aside_at AS at, set_aside_reason AS reason FROM outbox WHERE lane = ? AND set_aside_at IS NOT NULL ORDER BY set_aside_at DESC, id DESC LIMIT 1`,
    );
    this.backInLineStmt = db.prepare(`UPDATE outbox SET set_aside_at = NULL, set_aside_reason = NULL, next_attempt_at = ? WHERE id = ?`);
    this.byIdStmt = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE id = ?`);
    this.listStmt = db.prepare(`SELECT ${COLUMNS} FROM outbox ORDER BY lane, id`);
  }

  enqueue<P>(job: NewJob<P>, now = new Date()): number {
    const at = toSqliteTime(now);
    const row = this.insertStmt.get(job.lane, job.kind, job.userId, job.messageId, JSON.stringify(job.payload), at, at) as { id: number };
    return row.id;
  }

  /** The oldest job of a lane still in line, due or not: lanes that keep order wait on it. */
  head<P>(lane: Lane): OutboxJob<P> | null {
    const row = this.headStmt.get(lane) as JobRow | undefined;
    return row ? toJob<P>(row) : null;
  }

  due<P>(lane: Lane, now: Date, limit: number): OutboxJob<P>[] {
    return (this.dueStmt.all(lane, toSqliteTime(now), limit) as JobRow[]).map((row) => toJob<P>(row));
  }

  /** When the earliest job of a lane becomes due, or null when the lane is empty. */
  nextDueAt(lane: Lane): Date | null {
    const row = this.nextDueStmt.get(lane) as { at: string | null };
    return row.at ? fromSqliteTime(row.at) : null;
  }

  savePayload<P>(id: number, payload: P): void {
    this.payloadStmt.run(JSON.stringify(payload), id);
  }

  reschedule(id: number, nextAttemptAt: Date, error: string | null, countAttempt: boolean): void {
    this.rescheduleStmt.run(countAttempt ? 1 : 0, toSqliteTime(nextAttemptAt), error?.slice(0, REASON_MAX) ?? null, id);
  }

  /** Takes a job out of its lane, keeping it with `reason`; false when it is gone or already set aside. */
  setAside(id: number, reason: string, at = new Date()): boolean {
    return this.setAsideStmt.run(toSqliteTime(at), reason.slice(0, REASON_MAX), id).changes > 0;
  }

  /** Due at `at`; a set-aside job goes back in line, at the place its id gives it. False when there is no such job. */
  retryAt(id: number, at = new Date()): boolean {
    return this.backInLineStmt.run(toSqliteTime(at), id).changes > 0;
  }

  byId<P>(id: number): OutboxJob<P> | null {
    const row = this.byIdStmt.get(id) as JobRow | undefined;
    return row ? toJob<P>(row) : null;
  }

  /** Every job, in line or set aside, by lane and then in lane order. */
  list<P = unknown>(): OutboxJob<P>[] {
    return (this.listStmt.all() as JobRow[]).map((row) => toJob<P>(row));
  }

  remove(id: number): void {
    this.removeStmt.run(id);
  }

  stats(lane: Lane): LaneStats {
    const row = this.statsStmt.get(lane) as { depth: number; oldest: string | null };
    return { depth: row.depth, oldestCreatedAt: row.oldest ? fromSqliteTime(row.oldest) : null };
  }

  setAsideStats(lane: Lane): SetAsideStats {
    const { n } = this.setAsideStatsStmt.get(lane) as { n: number };
    if (n === 0) return { count: 0, latestReason: null, latestAt: null };
    const latest = this.latestSetAsideStmt.get(lane) as { at: string; reason: string | null } | undefined;
    return { count: n, latestReason: latest?.reason ?? null, latestAt: latest ? fromSqliteTime(latest.at) : null };
  }
}

function toJob<P>(row: JobRow): OutboxJob<P> {
  return {
    id: row.id,
    lane: row.lane === "push" ? "push" : "telegram",
    kind: row.kind,
    userId: row.user_id,
    messageId: row.message_id,
    payload: JSON.parse(row.payload) as P,
    attempts: row.attempts,
    nextAttemptAt: fromSqliteTime(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: fromSqliteTime(row.created_at),
    setAsideAt: row.set_aside_at ? fromSqliteTime(row.set_aside_at) : null,
    setAsideReason: row.set_aside_reason,
  };
}
