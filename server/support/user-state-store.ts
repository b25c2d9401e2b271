// What agents decided about a user (SPEC §7): banned (with a reason) and
// whether the conversation is closed. One row per user, created by the first
// decision; a user with no row is neither banned nor closed.
import { readTime, type SqlRunner, type SqlTime } from "../db/sql.js";

export interface UserState {
  bannedAt: Date | null;
  banReason: string | null;
  closedAt: Date | null;
}

const NONE: UserState = { bannedAt: null, banReason: null, closedAt: null };

interface StateRow {
  banned_at: SqlTime | null;
  ban_reason: string | null;
  closed_at: SqlTime | null;
}

export class UserStateStore {
  constructor(private readonly q: SqlRunner) {}

  /** The same store inside a transaction. */
  in(tx: SqlRunner): UserStateStore {
    return new UserStateStore(tx);
  }

  async get(userId: string): Promise<UserState> {
    const row = await this.q.get<StateRow>(`SELECT banned_at, ban_reason, closed_at FROM support_users WHERE user_id = ?`, [userId]);
    if (!row) return NONE;
    return { bannedAt: readTime(row.banned_at), banReason: row.ban_reason, closedAt: readTime(row.closed_at) };
  }

  /** On every /send_message: one primary-key lookup. */
  async isBanned(userId: string): Promise<boolean> {
    return (await this.q.get(`SELECT 1 AS banned FROM support_users WHERE user_id = ? AND banned_at IS NOT NULL`, [userId])) !== undefined;
  }

  async ban(userId: string, reason: string | null, at: Date): Promise<void> {
    await this.q.run(
      `INSERT INTO support_users (user_id, banned_at, ban_reason, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET banned_at = excluded.banned_at, ban_reason = excluded.ban_reason, updated_at = excluded.updated_at`,
      [userId, at, reason, at],
    );
  }

  /** false when the user was not banned */
  async unban(userId: string, at: Date): Promise<boolean> {
    return (await this.q.run(`UPDATE support_users SET banned_at = NULL, ban_reason = NULL, updated_at = ? WHERE user_id = ? AND banned_at IS NOT NULL`, [at, userId])) > 0;
  }

  async close(userId: string, at: Date): Promise<void> {
    // closed_up_to_id: what the close answered, for reminders (server/support/reminders.ts)
    await this.q.run(
      `INSERT INTO support_users (user_id, closed_at, closed_up_to_id, updated_at)
       VALUES (?, ?, (SELECT MAX(id) FROM messages WHERE user_id = ?), ?)
       ON CONFLICT (user_id) DO UPDATE SET closed_at = excluded.closed_at, closed_up_to_id = excluded.closed_up_to_id, updated_at = excluded.updated_at`,
      [userId, at, userId, at],
    );
  }

  /** Opens a closed conversation again; false when it was open. */
  async reopen(userId: string, at: Date): Promise<boolean> {
    return (await this.q.run(`UPDATE support_users SET closed_at = NULL, updated_at = ? WHERE user_id = ? AND closed_at IS NOT NULL`, [at, userId])) > 0;
  }
}
