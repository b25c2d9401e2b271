// Which forum topic is each app user's (topic mode, SPEC §7). Written by the
// telegram outbox lane only, in the same transaction as the post's progress,
// so "the topic in use" is whatever the last committed step left: a crash
// between Telegram creating a topic and our commit leaves that topic
// unrecorded (an orphan no post goes to), never a second topic in use.
import type { Database, Statement } from "better-sqlite3";
import { toSqliteTime } from "../db/time.js";

export type TopicState = "open" | "closed" | "gone";

export interface UserTopic {
  userId: string;
  threadId: number;
  state: Exclude<TopicState, "gone">;
}

export class TopicStore {
  private readonly inUseStmt: Statement<[string, string]>;
  private readonly byThreadStmt: Statement<[string, number]>;
  private readonly insertStmt: Statement<[string, string, number, string]>;
  private readonly stateStmt: Statement<[string, string, number]>;
  private readonly countStmt: Statement<[string, string]>;

  constructor(db: Database) {
    this.inUseStmt = db.prepare(
      `SELECT user_id, message_thread_id, state FROM support_topics WHERE chat_id = ? AND user_id = ? AND state != 'gone' ORDER BY id DESC LIMIT 1`,
    );
    this.byThreadStmt = db.prepare(`SELECT user_id, message_thread_id, state FROM support_topics WHERE chat_id = ? AND message_thread_id = ? AND state != 'gone'`);
    this.insertStmt = db.prepare(`INSERT INTO support_topics (user_id, chat_id, message_thread_id, state, created_at) VALUES (?, ?, ?, 'open', ?)`);
    this.stateStmt = db.prepare(`UPDATE support_topics SET state = ? WHERE chat_id = ? AND message_thread_id = ? AND state != 'gone'`);
    this.countStmt = db.prepare(`SELECT COUNT(*) AS n FROM support_topics WHERE chat_id = ? AND user_id = ? AND state != 'gone'`);
  }

  /** The user's topic in that chat, unless none was made yet or Telegram deleted it. */
  forUser(chatId: number, userId: string): UserTopic | null {
    return toTopic(this.inUseStmt.get(String(chatId), userId));
  }

  /** The user a topic belongs to; null for General, other topics and deleted ones. */
  byThread(chatId: number, threadId: number): UserTopic | null {
    return toTopic(this.byThreadStmt.get(String(chatId), threadId));
  }

  /** Records a topic Telegram created for the user; call inside the transaction that records the step. */
  record(chatId: number, userId: string, threadId: number, at: Date): void {
    this.insertStmt.run(userId, String(chatId), threadId, toSqliteTime(at));
  }

  setState(chatId: number, threadId: number, state: TopicState): void {
    this.stateStmt.run(state, String(chatId), threadId);
  }

  /** Topics in use by one user (tests and checks: never more than one). */
  inUseCount(chatId: number, userId: string): number {
    return (this.countStmt.get(String(chatId), userId) as { n: number }).n;
  }
}

function toTopic(row: unknown): UserTopic | null {
  const r = row as { user_id: string; message_thread_id: number; state: string } | undefined;
  if (!r) return null;
  return { userId: r.user_id, threadId: r.message_thread_id, state: r.state === "closed" ? "closed" : "open" };
}
