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
}

function toMessage(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    userId: row.user_id,
    text: row.message,
    direction: row.direction === "support" ? "support" : "user",
    photoUrls: parsePhotoUrls(row.photo_urls),
    createdAt: fromSqliteTime(row.created_at),
  };
}

function parsePhotoUrls(text: string): string[] {
  if (text === "[]") return [];
  const value = JSON.parse(text) as unknown;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

const COLUMNS = "id, user_id, message, direction, photo_urls, created_at";

export class MessageStore {
  private readonly insertStmt: Statement<[string, string | null, string, string, string, string, string | null, string | null, string | null, number | null]>;
  private readonly historyStmt: Statement<[string, number]>;
  private readonly byIdStmt: Statement<[number]>;
  private readonly byClientIdStmt: Statement<[string, string]>;
  private readonly markSentStmt: Statement<[string, number, number]>;
  private readonly answerStmt: Statement<[string, number]>;
  private readonly deliveryStmt: Statement<[string, number]>;

  constructor(private readonly db: Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO messages (user_id, user_name, message, direction, photo_urls, created_at, delivery, client_message_id, telegram_chat_id, telegram_message_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_chat_id, telegram_message_id) DO NOTHING RETURNING id`,
    );
    // Served by the (user_id, id) index: newest first, then reversed.
    this.historyStmt = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE user_id = ? ORDER BY id DESC LIMIT ?`);
    this.byIdStmt = db.prepare(`SELECT ${COLUMNS}, delivery, telegram_message_id, idempotent_answer FROM messages WHERE id = ?`);
    this.byClientIdStmt = db.prepare(
      `SELECT ${COLUMNS}, delivery, telegram_message_id, idempotent_answer FROM messages WHERE user_id = ? AND client_message_id = ?`,
    );
    this.markSentStmt = db.prepare(`UPDATE messages SET delivery = 'sent', telegram_chat_id = ?, telegram_message_id = ? WHERE id = ?`);
    this.answerStmt = db.prepare(`UPDATE messages SET idempotent_answer = ? WHERE id = ?`);
    this.deliveryStmt = db.prepare(`UPDATE messages SET delivery = ? WHERE id = ? AND delivery IS NOT NULL AND delivery <> 'sent'`);
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
    ) as { id: number } | undefined;
    if (!row) return null;
    return { id: row.id, userId: message.userId, text: message.text, direction: message.direction, photoUrls: message.photoUrls, createdAt };
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
