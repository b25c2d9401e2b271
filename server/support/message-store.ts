// Messages of the support chats, on prepared statements: these are the hot
// paths of the mobile API (see server/db/database.ts for why not Prisma).
import type { Database, Statement } from "better-sqlite3";
import { fromSqliteTime, toSqliteTime } from "../db/time.js";
import type { ChatMessage, Direction } from "./types.js";

interface MessageRow {
  id: number;
  user_id: string;
  message: string;
  direction: string;
  photo_urls: string;
  created_at: string;
  read_at: string | null;
  edited_at: string | null;
}

export interface StoredUserMessage extends ChatMessage {
  /** set_aside: Telegram refused it every way it was tried (or an operator skipped it); it stays in the history */
  delivery: "queued" | "sent" | "set_aside";
  telegramMessageId: number | null;
  idempotentAnswer: string | null;
}

export interface NewMessage {
  userId: string;
  userName: string | null;
  text: string;
  direction: Direction;
  photoUrls: string[];
  clientMessageId?: string | null;
  /** the Telegram message this is (an agent's reply): stored once per (chat, message) */
  telegram?: { chatId: number | string; messageId: number };
  createdAt?: Date;
  /** a support message the user sees as it is created (the greeting) starts read */
  readAt?: Date | null;
}

/** Counts and times of a user's chat, for the agents' /info. */
export interface ChatStats {
  messageCount: number;
  firstAt: Date | null;
  lastAt: Date | null;
  /** the name the app sent with the user's latest message that had one */
  userName: string | null;
}

function toMessage(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    userId: row.user_id,
    text: row.message,
    direction: row.direction === "support" ? "support" : "user",
    photoUrls: parsePhotoUrls(row.photo_urls),
    createdAt: fromSqliteTime(row.created_at),
    readAt: row.read_at === null ? null : fromSqliteTime(row.read_at),
    editedAt: row.edited_at === null ? null : fromSqliteTime(row.edited_at),
  };
}

function parsePhotoUrls(text: string): string[] {
  if (text === "[]") return [];
  const value = JSON.parse(text) as unknown;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

const COLUMNS = "id, user_id, message, direction, photo_urls, created_at, read_at, edited_at";
// What the app shows: a message an agent deleted with /delete is kept (for
// the record) but left out everywhere the user or the agents read.
const VISIBLE = "deleted_at IS NULL";
const UNREAD = `direction = 'support' AND read_at IS NULL AND ${VISIBLE}`;

export class MessageStore {
  private readonly insertStmt: Statement<[string, string | null, string, string, string, string, string | null, string | null, string | null, number | null, string | null]>;
  private readonly historyStmt: Statement<[string, number]>;
  private readonly byIdStmt: Statement<[number]>;
  private readonly byClientIdStmt: Statement<[string, string]>;
  private readonly markSentStmt: Statement<[string, number, number]>;
  private readonly answerStmt: Statement<[string, number]>;
  private readonly deliveryStmt: Statement<[string, number]>;
  private readonly unreadStmt: Statement<[string]>;
  private readonly markReadStmt: Statement<[string, string, number]>;
  private readonly supportByTelegramStmt: Statement<[string, number]>;
  private readonly editStmt: Statement<[string, string, number]>;
  private readonly deleteStmt: Statement<[string, number]>;
  private readonly statsStmt: Statement<[string]>;
  private readonly nameStmt: Statement<[string]>;

  constructor(private readonly db: Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO messages (user_id, user_name, message, direction, photo_urls, created_at, delivery, client_message_id, telegram_chat_id, telegram_message_id, read_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_chat_id, telegram_message_id) DO NOTHING RETURNING id`,
    );
    // Served by the (user_id, id) index: newest first, then reversed.
    this.historyStmt = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE user_id = ? AND ${VISIBLE} ORDER BY id DESC LIMIT ?`);
    this.byIdStmt = db.prepare(`SELECT ${COLUMNS}, delivery, telegram_message_id, idempotent_answer FROM messages WHERE id = ?`);
    this.byClientIdStmt = db.prepare(
      `SELECT ${COLUMNS}, delivery, telegram_message_id, idempotent_answer FROM messages WHERE user_id = ? AND client_message_id = ?`,
    );
    this.markSentStmt = db.prepare(`UPDATE messages SET delivery = 'sent', telegram_chat_id = ?, telegram_message_id = ? WHERE id = ?`);
    this.answerStmt = db.prepare(`UPDATE messages SET idempotent_answer = ? WHERE id = ?`);
    this.deliveryStmt = db.prepare(`UPDATE messages SET delivery = ? WHERE id = ? AND delivery IS NOT NULL AND delivery <> 'sent'`);
    this.unreadStmt = db.prepare(`SELECT COUNT(*) AS n FROM messages WHERE user_id = ? AND ${UNREAD}`);
    // Only unread rows change: marking is monotonic, an older up_to_id never un-reads.
    this.markReadStmt = db.prepare(`UPDATE messages SET read_at = ? WHERE user_id = ? AND id <= ? AND ${UNREAD} RETURNING id`);
    this.supportByTelegramStmt = db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE telegram_chat_id = ? AND telegram_message_id = ? AND direction = 'support' AND ${VISIBLE}`,
    );
    this.editStmt = db.prepare(`UPDATE messages SET message = ?, edited_at = ? WHERE id = ? AND ${VISIBLE}`);
    this.deleteStmt = db.prepare(`UPDATE messages SET deleted_at = ? WHERE id = ? AND ${VISIBLE}`);
    this.statsStmt = db.prepare(`SELECT COUNT(*) AS n, MIN(created_at) AS first_at, MAX(created_at) AS last_at FROM messages WHERE user_id = ? AND ${VISIBLE}`);
    this.nameStmt = db.prepare(`SELECT user_name FROM messages WHERE user_id = ? AND direction = 'user' AND user_name IS NOT NULL ORDER BY id DESC LIMIT 1`);
  }

  /**
   * Inserts one message; call inside a transaction when more must go with it.
   * Returns null when a message for the same Telegram message exists already.
   */
  insertOnce(message: NewMessage): ChatMessage | null {
    const createdAt = message.createdAt ?? new Date();
    const row = this.insertStmt.get(
      message.userId,
      message.userName,
      message.text,
      message.direction,
      JSON.stringify(message.photoUrls),
      toSqliteTime(createdAt),
      message.direction === "user" ? "queued" : null,
      message.clientMessageId ?? null,
      message.telegram ? String(message.telegram.chatId) : null,
      message.telegram?.messageId ?? null,
      message.readAt ? toSqliteTime(message.readAt) : null,
    ) as { id: number } | undefined;
    if (!row) return null;
    return {
      id: row.id,
      userId: message.userId,
      text: message.text,
      direction: message.direction,
      photoUrls: message.photoUrls,
      createdAt,
      readAt: message.readAt ?? null,
      editedAt: null,
    };
  }

  /** Inserts a message that cannot collide (no Telegram identity). */
  insert(message: Omit<NewMessage, "telegram">): ChatMessage {
    const created = this.insertOnce(message);
    if (!created) throw new Error("a message without a Telegram identity cannot collide");
    return created;
  }

  /** The newest `limit` messages of a user, oldest first. */
  history(userId: string, limit: number): ChatMessage[] {
    const rows = this.historyStmt.all(userId, limit) as MessageRow[];
    const out = new Array<ChatMessage>(rows.length);
    for (let i = 0; i < rows.length; i++) out[rows.length - 1 - i] = toMessage(rows[i] as MessageRow);
    return out;
  }

  byId(id: number): StoredUserMessage | null {
    return this.toStored(this.byIdStmt.get(id));
  }

  byClientMessageId(userId: string, clientMessageId: string): StoredUserMessage | null {
    return this.toStored(this.byClientIdStmt.get(userId, clientMessageId));
  }

  markSent(id: number, chatId: number | string, telegramMessageId: number): void {
    this.markSentStmt.run(String(chatId), telegramMessageId, id);
  }

  /** Out of the queue (set aside), or back in it (an operator's retry); a message Telegram took stays "sent". */
  markDelivery(id: number, delivery: "queued" | "set_aside"): void {
    this.deliveryStmt.run(delivery, id);
  }

  saveIdempotentAnswer(id: number, answer: unknown): void {
    this.answerStmt.run(JSON.stringify(answer), id);
  }

  /** Support messages of the user not read yet (deleted ones aside). */
  unreadCount(userId: string): number {
    return (this.unreadStmt.get(userId) as { n: number }).n;
  }

  /** Marks the user's support messages up to `upToId` read; returns the ids that changed. */
  markRead(userId: string, upToId: number, at: Date): number[] {
    return (this.markReadStmt.all(toSqliteTime(at), userId, upToId) as { id: number }[]).map((r) => r.id);
  }

  /** The support message an agent's group message became, unless deleted. */
  supportMessageFor(chatId: number | string, telegramMessageId: number): ChatMessage | null {
    const row = this.supportByTelegramStmt.get(String(chatId), telegramMessageId) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  /** New text for a message; false when it is gone (deleted meanwhile). */
  editText(id: number, text: string, at: Date): boolean {
    return this.editStmt.run(text, toSqliteTime(at), id).changes > 0;
  }

  /** Hides a message from the app; false when it was hidden already. */
  markDeleted(id: number, at: Date): boolean {
    return this.deleteStmt.run(toSqliteTime(at), id).changes > 0;
  }

  stats(userId: string): ChatStats {
    const row = this.statsStmt.get(userId) as { n: number; first_at: string | null; last_at: string | null };
    const name = this.nameStmt.get(userId) as { user_name: string } | undefined;
    return {
      messageCount: row.n,
      firstAt: row.first_at === null ? null : fromSqliteTime(row.first_at),
      lastAt: row.last_at === null ? null : fromSqliteTime(row.last_at),
      userName: name?.user_name ?? null,
    };
  }

  private toStored(row: unknown): StoredUserMessage | null {
    if (!row) return null;
    const r = row as MessageRow & { delivery: string | null; telegram_message_id: number | null; idempotent_answer: string | null };
    return {
      ...toMessage(r),
      delivery: r.delivery === "sent" || r.delivery === "set_aside" ? r.delivery : "queued",
      telegramMessageId: r.telegram_message_id,
      idempotentAnswer: r.idempotent_answer,
    };
  }
}
