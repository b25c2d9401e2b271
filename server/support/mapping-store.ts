// Which user each message the bot posted into the group belongs to, so an
// agent's reply to any of them finds its way back. Written in the same
// transaction as the outbox progress of the post that created it.
import { readTime, type SqlRunner, type SqlTime } from "../db/sql.js";

export class MappingStore {
  constructor(private readonly q: SqlRunner) {}

  /** The same store inside a transaction. */
  in(tx: SqlRunner): MappingStore {
    return new MappingStore(tx);
  }

  /**
   * Moves mappings recorded under a group's @username (earlier versions did
   * so, on SQLite) to its numeric id, the only one replies carry. Returns
   * how many moved. PostgreSQL's chat_id is a number: nothing there to move.
   */
  async adoptChatId(username: string, chatId: number): Promise<number> {
    if (this.q.dialect === "postgres") return 0;
    return this.q.run(`UPDATE OR IGNORE message_mapping SET chat_id = ? WHERE chat_id = ?`, [String(chatId), username]);
  }

  async record(chatId: number, telegramMessageIds: readonly number[], userId: string, messageId: number | null, sentAt: Date): Promise<void> {
    for (const id of telegramMessageIds) {
      await this.q.run(
        `INSERT INTO message_mapping (chat_id, telegram_message_id, user_id, message_id, sent_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (chat_id, telegram_message_id) DO UPDATE SET user_id = excluded.user_id, message_id = excluded.message_id, sent_at = excluded.sent_at`,
        [String(chatId), id, userId, messageId, sentAt],
      );
    }
  }

  async userFor(chatId: number, telegramMessageId: number): Promise<string | null> {
    const row = await this.q.get<{ user_id: string }>(`SELECT user_id FROM message_mapping WHERE chat_id = ? AND telegram_message_id = ?`, [String(chatId), telegramMessageId]);
    return row?.user_id ?? null;
  }

  /** Send times into a chat since `since`: the pacing window after a restart. */
  async sentSince(chatId: number, since: Date): Promise<number[]> {
    const rows = await this.q.all<{ sent_at: SqlTime }>(`SELECT sent_at FROM message_mapping WHERE chat_id = ? AND sent_at > ? ORDER BY sent_at`, [String(chatId), since]);
    return rows.map((r) => readTime(r.sent_at).getTime());
  }
}
