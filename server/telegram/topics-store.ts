// Which forum topic is each app user's (topic mode, SPEC §7). Written by the
// telegram outbox lane only, in the same transaction as the post's progress,
// so "the topic in use" is whatever the last committed step left: a crash
// between Telegram creating a topic and our commit leaves that topic
// unrecorded (an orphan no post goes to), never a second topic in use.
import type { SqlRunner } from "../db/sql.js";

export type TopicState = "open" | "closed" | "gone";

export interface UserTopic {
  userId: string;
  threadId: number;
  state: Exclude<TopicState, "gone">;
}

type TopicRow = { user_id: string; message_thread_id: number; state: string };

export class TopicStore {
  constructor(private readonly q: SqlRunner) {}

  /** The same store inside a transaction. */
  in(tx: SqlRunner): TopicStore {
    return new TopicStore(tx);
  }

  /** The user's topic in that chat, unless none was made yet or Telegram deleted it. */
  async forUser(chatId: number, userId: string): Promise<UserTopic | null> {
    return toTopic(
      await this.q.get<TopicRow>(
        `SELECT user_id, message_thread_id, state FROM support_topics WHERE chat_id = ? AND user_id = ? AND state != 'gone' ORDER BY id DESC LIMIT 1`,
        [String(chatId), userId],
      ),
    );
  }

  /** The user a topic belongs to; null for General, other topics and deleted ones. */
  async byThread(chatId: number, threadId: number): Promise<UserTopic | null> {
    return toTopic(
      await this.q.get<TopicRow>(`SELECT user_id, message_thread_id, state FROM support_topics WHERE chat_id = ? AND message_thread_id = ? AND state != 'gone'`, [
        String(chatId),
        threadId,
      ]),
    );
  }

  /** Records a topic Telegram created for the user; call inside the transaction that records the step. */
  async record(chatId: number, userId: string, threadId: number, at: Date): Promise<void> {
    await this.q.run(`INSERT INTO support_topics (user_id, chat_id, message_thread_id, state, created_at) VALUES (?, ?, ?, 'open', ?)`, [userId, String(chatId), threadId, at]);
  }

  async setState(chatId: number, threadId: number, state: TopicState): Promise<void> {
    await this.q.run(`UPDATE support_topics SET state = ? WHERE chat_id = ? AND message_thread_id = ? AND state != 'gone'`, [state, String(chatId), threadId]);
  }

  /** Topics in use by one user (tests and checks: never more than one). */
  async inUseCount(chatId: number, userId: string): Promise<number> {
    return (await this.q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM support_topics WHERE chat_id = ? AND user_id = ? AND state != 'gone'`, [String(chatId), userId]))?.n ?? 0;
  }
}

function toTopic(r: TopicRow | undefined): UserTopic | null {
  if (!r) return null;
  return { userId: r.user_id, threadId: r.message_thread_id, state: r.state === "closed" ? "closed" : "open" };
}
