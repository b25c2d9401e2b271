// The outbox table: every outgoing call is a row here before it is made, so
// a crash, an outage or a restart loses nothing. Prepared statements: jobs
// are written on the hot path of /send_message.
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
}

const COLUMNS = "id, lane, kind, user_id, message_id, payload, attempts, next_attempt_at, last_error, created_at";

export interface LaneStats {
  depth: number;
  oldestCreatedAt: Date | null;
}

export class OutboxStore {
  private readonly insertStmt: Statement<[string, string, string, number | null, string, string, string]>;
  private readonly headStmt: Statement<[string]>;
  private readonly dueStmt: Statement<[string, string, number]>;
  private readonly nextDueStmt: Statement<[string]>;
  private readonly payloadStmt: Statement<[string, number]>;
  private readonly rescheduleStmt: Statement<[number, string, string | null, number]>;
  private readonly removeStmt: Statement<[number]>;
  private readonly statsStmt: Statement<[string]>;

  constructor(db: Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO outbox (lane, kind, user_id, message_id, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.headStmt = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE lane = ? ORDER BY id LIMIT 1`);
    this.dueStmt = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE lane = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?`);
    this.nextDueStmt = db.prepare(`SELECT MIN(next_attempt_at) AS at FROM outbox WHERE lane = ?`);
    this.payloadStmt = db.prepare(`UPDATE outbox SET payload = ? WHERE id = ?`);
    this.rescheduleStmt = db.prepare(`UPDATE outbox SET attempts = attempts + ?, next_attempt_at = ?, last_error = ? WHERE id = ?`);
    this.removeStmt = db.prepare(`DELETE FROM outbox WHERE id = ?`);
    this.statsStmt = db.prepare(`SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE lane = ?`);
  }

  enqueue<P>(job: NewJob<P>, now = new Date()): number {
    const at = toSqliteTime(now);
    const row = this.insertStmt.get(job.lane, job.kind, job.userId, job.messageId, JSON.stringify(job.payload), at, at) as { id: number };
    return row.id;
  }

  /** The oldest job of a lane, due or not: lanes that keep order wait on it. */
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
    this.rescheduleStmt.run(countAttempt ? 1 : 0, toSqliteTime(nextAttemptAt), error?.slice(0, 500) ?? null, id);
  }

  remove(id: number): void {
    this.removeStmt.run(id);
  }

  stats(lane: Lane): LaneStats {
    const row = this.statsStmt.get(lane) as { depth: number; oldest: string | null };
    return { depth: row.depth, oldestCreatedAt: row.oldest ? fromSqliteTime(row.oldest) : null };
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
  };
}
