// Messages of the support chats, in the stores' SQL (server/db/sql.ts):
// these are the hot paths of the mobile API (see server/db/database.ts for
// why not Prisma).
import { readTime, type SqlRunner, type SqlTime } from "../db/sql.js";
import type { ChatMessage, Direction } from "./types.js";

interface MessageRow {
  id: number;
  user_id: string;
  message: string;
  direction: string;
  photo_urls: string;
  created_at: SqlTime;
  read_at: SqlTime | null;
  edited_at: SqlTime | null;
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
    createdAt: readTime(row.created_at),
    readAt: readTime(row.read_at),
    editedAt: readTime(row.edited_at),
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

const STORED_COLUMNS = `${COLUMNS}, delivery, telegram_message_id, idempotent_answer`;

type StoredRow = MessageRow & { delivery: string | null; telegram_message_id: number | null; idempotent_answer: string | null };

export class MessageStore {
  constructor(private readonly q: SqlRunner) {}

  /** The same store inside a transaction. */
  in(tx: SqlRunner): MessageStore {
    return new MessageStore(tx);
  }

  /**
   * Inserts one message; call inside a transaction when more must go with it.
   * Returns null when the message exists already: one for the same Telegram
   * message, or the user's with the same client_message_id. On PostgreSQL a
   * concurrent insert of the same key waits for the other to commit and
   * then returns null, so a caller can read the one stored.
   */
  async insertOnce(message: NewMessage): Promise<ChatMessage | null> {
    const createdAt = message.createdAt ?? new Date();
    const row = await this.q.get<{ id: number }>(
      `INSERT INTO messages (user_id, user_name, message, direction, photo_urls, created_at, delivery, client_message_id, telegram_chat_id, telegram_message_id, read_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
      [
        message.userId,
        message.userName,
        message.text,
        message.direction,
        JSON.stringify(message.photoUrls),
        createdAt,
        message.direction === "user" ? "queued" : null,
        message.clientMessageId ?? null,
        message.telegram ? String(message.telegram.chatId) : null,
        message.telegram?.messageId ?? null,
        message.readAt ?? null,
      ],
    );
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

  /** Inserts a message that cannot collide (no Telegram identity, no client_message_id). */
  async insert(message: Omit<NewMessage, "telegram" | "clientMessageId">): Promise<ChatMessage> {
    const created = await this.insertOnce(message);
    if (!created) throw new Error("a message without a Telegram identity cannot collide");
    return created;
  }

  /** The newest `limit` messages of a user, oldest first. */
  async history(userId: string, limit: number): Promise<ChatMessage[]> {
    // Served by the (user_id, id) index: newest first, then reversed.
    const rows = await this.q.all<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE user_id = ? AND ${VISIBLE} ORDER BY id DESC LIMIT ?`, [userId, limit]);
    const out = new Array<ChatMessage>(rows.length);
    for (let i = 0; i < rows.length; i++) out[rows.length - 1 - i] = toMessage(rows[i] as MessageRow);
    return out;
  }

  async byId(id: number): Promise<StoredUserMessage | null> {
    return toStored(await this.q.get<StoredRow>(`SELECT ${STORED_COLUMNS} FROM messages WHERE id = ?`, [id]));
  }

  async byClientMessageId(userId: string, clientMessageId: string): Promise<StoredUserMessage | null> {
    return toStored(await this.q.get<StoredRow>(`SELECT ${STORED_COLUMNS} FROM messages WHERE user_id = ? AND client_message_id = ?`, [userId, clientMessageId]));
  }

  async markSent(id: number, chatId: number | string, telegramMessageId: number): Promise<void> {
    await this.q.run(`UPDATE messages SET delivery = 'sent', telegram_chat_id = ?, telegram_message_id = ? WHERE id = ?`, [String(chatId), telegramMessageId, id]);
  }

  /** Out of the queue (set aside), or back in it (an operator's retry); a message Telegram took stays "sent". */
  async markDelivery(id: number, delivery: "queued" | "set_aside"): Promise<void> {
    await this.q.run(`UPDATE messages SET delivery = ? WHERE id = ? AND delivery IS NOT NULL AND delivery <> 'sent'`, [delivery, id]);
  }

  async saveIdempotentAnswer(id: number, answer: unknown): Promise<void> {
    await this.q.run(`UPDATE messages SET idempotent_answer = ? WHERE id = ?`, [JSON.stringify(answer), id]);
  }

  /** Support messages of the user not read yet (deleted ones aside). */
  async unreadCount(userId: string): Promise<number> {
    return (await this.q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM messages WHERE user_id = ? AND ${UNREAD}`, [userId]))?.n ?? 0;
  }

  /** Marks the user's support messages up to `upToId` read; returns the ids that changed. */
  async markRead(userId: string, upToId: number, at: Date): Promise<number[]> {
    // Only unread rows change: marking is monotonic, an older up_to_id never un-reads.
    const rows = await this.q.all<{ id: number }>(`UPDATE messages SET read_at = ? WHERE user_id = ? AND id <= ? AND ${UNREAD} RETURNING id`, [at, userId, upToId]);
    return rows.map((r) => r.id);
  }

  /** The support message an agent's group message became, unless deleted. */
  async supportMessageFor(chatId: number | string, telegramMessageId: number): Promise<ChatMessage | null> {
    const row = await this.q.get<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE telegram_chat_id = ? AND telegram_message_id = ? AND direction = 'support' AND ${VISIBLE}`,
      [String(chatId), telegramMessageId],
    );
    return row ? toMessage(row) : null;
  }

  /** New text for a message; false when it is gone (deleted meanwhile). */
  async editText(id: number, text: string, at: Date): Promise<boolean> {
    return (await this.q.run(`UPDATE messages SET message = ?, edited_at = ? WHERE id = ? AND ${VISIBLE}`, [text, at, id])) > 0;
  }

  /** Hides a message from the app; false when it was hidden already. */
  async markDeleted(id: number, at: Date): Promise<boolean> {
    return (await this.q.run(`UPDATE messages SET deleted_at = ? WHERE id = ? AND ${VISIBLE}`, [at, id])) > 0;
  }

  async stats(userId: string): Promise<ChatStats> {
    const row = await this.q.get<{ n: number; first_at: SqlTime | null; last_at: SqlTime | null }>(
      `SELECT COUNT(*) AS n, MIN(created_at) AS first_at, MAX(created_at) AS last_at FROM messages WHERE user_id = ? AND ${VISIBLE}`,
      [userId],
    );
    const name = await this.q.get<{ user_name: string }>(
      `SELECT user_name FROM messages WHERE user_id = ? AND direction = 'user' AND user_name IS NOT NULL ORDER BY id DESC LIMIT 1`,
      [userId],
    );
    return {
      messageCount: row?.n ?? 0,
      firstAt: readTime(row?.first_at ?? null),
      lastAt: readTime(row?.last_at ?? null),
      userName: name?.user_name ?? null,
    };
  }
}

function toStored(row: StoredRow | undefined): StoredUserMessage | null {
  if (!row) return null;
  return {
    ...toMessage(row),
    delivery: row.delivery === "sent" || row.delivery === "set_aside" ? row.delivery : "queued",
    telegramMessageId: row.telegram_message_id,
    idempotentAnswer: row.idempotent_answer,
  };
}
