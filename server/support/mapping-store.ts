// Which user each message the bot posted into the group belongs to, so an
// agent's reply to any of them finds its way back. Written in the same
// transaction as the outbox progress of the post that created it.
import type { Database, Statement } from "better-sqlite3";
import { fromSqliteTime, toSqliteTime } from "../db/time.js";

export class MappingStore {
  private readonly insertStmt: Statement<[string, number, string, number | null, string]>;
  private readonly userStmt: Statement<[string, number]>;
  private readonly recentStmt: Statement<[string, string]>;
  private readonly rekeyStmt: Statement<[string, string]>;

  constructor(db: Database) {
    this.insertStmt = db.prepare(
      `INSERT OR REPLACE INTO message_mapping (chat_id, telegram_message_id, user_id, message_id, sent_at) VALUES (?, ?, ?, ?, ?)`,
    );
    this.userStmt = db.prepare(`SELECT user_id FROM message_mapping WHERE chat_id = ? AND telegram_message_id = ?`);
    this.recentStmt = db.prepare(`SELECT sent_at FROM message_mapping WHERE chat_id = ? AND sent_at > ? ORDER BY sent_at`);
    this.rekeyStmt = db.prepare(`UPDATE OR IGNORE message_mapping SET chat_id = ? WHERE chat_id = ?`);
  }

  /**
   * Moves mappings recorded under a group's @username (earlier versions did
   * so) to its numeric id, the only one replies carry. Returns how many moved.
   */
  adoptChatId(username: string, chatId: number): number {
    return this.rekeyStmt.run(String(chatId), username).changes;
  }

  record(chatId: number, telegramMessageIds: readonly number[], userId: string, messageId: number | null, sentAt: Date): void {
    const at = toSqliteTime(sentAt);
    for (const id of telegramMessageIds) this.insertStmt.run(String(chatId), id, userId, messageId, at);
  }

  userFor(chatId: number, telegramMessageId: number): string | null {
    const row = this.userStmt.get(String(chatId), telegramMessageId) as { user_id: string } | undefined;
    return row?.user_id ?? null;
  }

  /** Send times into a chat since `since`: the pacing window after a restart. */
  sentSince(chatId: number, since: Date): number[] {
    return (this.recentStmt.all(String(chatId), toSqliteTime(since)) as { sent_at: string }[]).map((r) => fromSqliteTime(r.sent_at).getTime());
  }
}
