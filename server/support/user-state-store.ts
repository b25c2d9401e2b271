// What agents decided about a user (SPEC §7): banned (with a reason) and
// whether the conversation is closed. One row per user, created by the first
// decision; a user with no row is neither banned nor closed.
import type { Database, Statement } from "better-sqlite3";
import { fromSqliteTime, toSqliteTime } from "../db/time.js";

export interface UserState {
  bannedAt: Date | null;
  banReason: string | null;
  closedAt: Date | null;
}

const NONE: UserState = { bannedAt: null, banReason: null, closedAt: null };

interface StateRow {
  banned_at: string | null;
  ban_reason: string | null;
  closed_at: string | null;
}

export class UserStateStore {
  private readonly getStmt: Statement<[string]>;
  private readonly bannedStmt: Statement<[string]>;
  private readonly banStmt: Statement<[{ user: string; at: string; reason: string | null }]>;
  private readonly unbanStmt: Statement<[{ user: string; at: string }]>;
  private readonly closeStmt: Statement<[{ user: string; at: string }]>;
  private readonly reopenStmt: Statement<[{ user: string; at: string }]>;

  constructor(db: Database) {
    this.getStmt = db.prepare(`SELECT banned_at, ban_reason, closed_at FROM support_users WHERE user_id = ?`);
    // On every /send_message: one primary-key lookup.
    this.bannedStmt = db.prepare(`SELECT 1 FROM support_users WHERE user_id = ? AND banned_at IS NOT NULL`);
    this.banStmt = db.prepare(
      `INSERT INTO support_users (user_id, banned_at, ban_reason, updated_at) VALUES (@user, @at, @reason, @at)
       ON CONFLICT (user_id) DO UPDATE SET banned_at = @at, ban_reason = @reason, updated_at = @at`,
    );
    this.unbanStmt = db.prepare(`UPDATE support_users SET banned_at = NULL, ban_reason = NULL, updated_at = @at WHERE user_id = @user AND banned_at IS NOT NULL`);
    // closed_up_to_id: what the close answered, for reminders (server/support/reminders.ts)
    this.closeStmt = db.prepare(
      `INSERT INTO support_users (user_id, closed_at, closed_up_to_id, updated_at)
       VALUES (@user, @at, (SELECT MAX(id) FROM messages WHERE user_id = @user), @at)
       ON CONFLICT (user_id) DO UPDATE SET closed_at = @at, closed_up_to_id = excluded.closed_up_to_id, updated_at = @at`,
    );
    this.reopenStmt = db.prepare(`UPDATE support_users SET closed_at = NULL, updated_at = @at WHERE user_id = @user AND closed_at IS NOT NULL`);
  }

  get(userId: string): UserState {
    const row = this.getStmt.get(userId) as StateRow | undefined;
    if (!row) return NONE;
    return {
      bannedAt: row.banned_at === null ? null : fromSqliteTime(row.banned_at),
      banReason: row.ban_reason,
      closedAt: row.closed_at === null ? null : fromSqliteTime(row.closed_at),
    };
  }

  isBanned(userId: string): boolean {
    return this.bannedStmt.get(userId) !== undefined;
  }

  ban(userId: string, reason: string | null, at: Date): void {
    this.banStmt.run({ user: userId, at: toSqliteTime(at), reason });
  }

  /** false when the user was not banned */
  unban(userId: string, at: Date): boolean {
    return this.unbanStmt.run({ user: userId, at: toSqliteTime(at) }).changes > 0;
  }

  close(userId: string, at: Date): void {
    this.closeStmt.run({ user: userId, at: toSqliteTime(at) });
  }

  /** Opens a closed conversation again; false when it was open. */
  reopen(userId: string, at: Date): boolean {
    return this.reopenStmt.run({ user: userId, at: toSqliteTime(at) }).changes > 0;
  }
}
