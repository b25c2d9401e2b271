// Agents' albums (SPEC §7): Telegram sends each item of an album as its own
// update (sharing media_group_id), possibly interleaved with other messages,
// and never says which item is the last. Each item is kept as a row the
// moment its update arrives (its photo already downloaded), so the webhook
// request answers at once; an album is flushed into one support message
// QUIET_MS after its newest item, by a timer, and by a sweep at start-up so
// a restart in the middle of an album still delivers it.
//
// Exactly once: the support message carries the album's first item as its
// Telegram identity (insertOnce ignores a second insert), and the items are
// marked delivered after it. A crash between the two finds the message
// stored on the next sweep and only marks the items.
//
// A late item (its album already delivered) is ignored with a log line:
// appending it would change a message the user may have read, and Telegram
// delivers an album's items within a second of each other, so a late one
// means a redelivery or a clock far off, not a photo the agent meant to add.
import { readTime, type Sql, type SqlRunner, type SqlTime } from "../db/sql.js";
import type { Logger } from "../logger.js";

/** How long an album waits after its newest item before it is delivered. */
export const ALBUM_QUIET_MS = 1_500;

export interface AlbumItem {
  chatId: number;
  telegramMessageId: number;
  mediaGroupId: string;
  userId: string;
  /** "other": a video, voice, sticker or file the app cannot show */
  kind: "photo" | "other";
  /** null for a photo that could not be kept, and for "other" */
  photoUrl: string | null;
  caption: string;
  /** the forum topic it was sent in (topic mode) */
  threadId?: number;
}

/** One album ready to be a support message. */
export interface CollectedAlbum {
  chatId: number;
  userId: string;
  /** the album's first item: the support message's Telegram identity */
  firstMessageId: number;
  text: string;
  photoUrls: string[];
  /** the first item the app cannot show, when there was one (the agent is told) */
  firstOtherMessageId: number | null;
  /** the forum topic the album was sent in (topic mode) */
  threadId: number | null;
}

export interface AgentAlbumsDeps {
  sql: Sql;
  logger: Logger;
  /** stores the support message; null when it was stored already (a re-flush) */
  deliver(album: CollectedAlbum): Promise<unknown>;
  quietMs?: number;
  now?: () => Date;
}

interface ItemRow {
  chat_id: number | bigint;
  telegram_message_id: number;
  user_id: string;
  kind: string;
  photo_url: string | null;
  caption: string;
  thread_id: number | null;
  received_at: SqlTime;
}

export type AddOutcome = "kept" | "late" | "duplicate";

export class AgentAlbums {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly flushing = new Map<string, Promise<void>>();
  /** items whose photo is still downloading: their album waits for them */
  private readonly arriving = new Map<string, number>();
  private readonly quietMs: number;
  private readonly now: () => Date;
  private stopped = false;
  private lastPrune = 0;

  constructor(private readonly deps: AgentAlbumsDeps) {
    this.quietMs = deps.quietMs ?? ALBUM_QUIET_MS;
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * An item's update started (its photo downloads before add): the album is
   * not flushed meanwhile, so a slow download cannot split it. Call the
   * returned function when the item is kept or failed.
   */
  arrive(chatId: number, mediaGroupId: string): () => void {
    const key = `${chatId}\u0000${mediaGroupId}`;
    this.arriving.set(key, (this.arriving.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.arriving.get(key) ?? 1) - 1;
      if (left > 0) this.arriving.set(key, left);
      else this.arriving.delete(key);
    };
  }

  /** Keeps one item (committed before this returns) and (re)arms its album's timer. */
  async add(item: AlbumItem): Promise<AddOutcome> {
    const chat = String(item.chatId);
    const outcome = await this.deps.sql.transaction(async (tx): Promise<AddOutcome> => {
      if (await tx.get(`SELECT 1 AS delivered FROM agent_album_items WHERE chat_id = ? AND media_group_id = ? AND delivered_at IS NOT NULL LIMIT 1`, [chat, item.mediaGroupId])) {
        return "late";
      }
      const inserted = await tx.run(
        `INSERT INTO agent_album_items (chat_id, telegram_message_id, media_group_id, user_id, kind, photo_url, caption, thread_id, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [chat, item.telegramMessageId, item.mediaGroupId, item.userId, item.kind, item.photoUrl, item.caption, item.threadId ?? null, this.now()],
      );
      return inserted > 0 ? "kept" : "duplicate";
    });
    if (outcome === "late") {
      this.deps.logger.info(
        { chatId: item.chatId, telegramMessageId: item.telegramMessageId, mediaGroupId: item.mediaGroupId },
        "an album item arrived after its album was delivered; ignored (the agent can send it again as a new reply)",
      );
    } else {
      this.arm(chat, item.mediaGroupId, this.quietMs);
    }
    return outcome;
  }

  /** Start-up: albums left undelivered by a restart are delivered once they are quiet. */
  async start(): Promise<void> {
    this.stopped = false;
    const pending = await this.deps.sql.all<{ chat_id: number | bigint; media_group_id: string }>(`SELECT DISTINCT chat_id, media_group_id FROM agent_album_items WHERE delivered_at IS NULL`);
    for (const row of pending) this.arm(String(row.chat_id), row.media_group_id, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.flushing.values()]);
  }

  private arm(chat: string, mediaGroupId: string, ms: number): void {
    if (this.stopped) return;
    const key = `${chat}\u0000${mediaGroupId}`;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        const run = (this.flushing.get(key) ?? Promise.resolve()).then(() => this.flush(chat, mediaGroupId));
        const tracked = run
          .catch((error: unknown) => {
            this.deps.logger.error({ err: error, mediaGroupId }, "could not deliver an agent's album; retrying in 5 s");
            this.arm(chat, mediaGroupId, 5_000);
          })
          .finally(() => {
            if (this.flushing.get(key) === tracked) this.flushing.delete(key);
          });
        this.flushing.set(key, tracked);
      }, ms),
    );
  }

  private async flush(chat: string, mediaGroupId: string): Promise<void> {
    if (this.arriving.has(`${chat}\u0000${mediaGroupId}`)) return this.arm(chat, mediaGroupId, this.quietMs);
    const { sql } = this.deps;
    if (sql.dialect !== "postgres") return this.flushItems(sql, chat, mediaGroupId);
    // Instances that each got items of one album (SPEC §8) each flush it:
    // under the album's lock the second waits for the first to deliver and
    // mark the items, then finds none left, so the agent hears of a video
    // once and the user gets one message.
    await sql.transaction(async (tx) => {
      await tx.get(`SELECT pg_advisory_xact_lock(hashtext(?))`, [`album:${chat}:${mediaGroupId}`]);
      await this.flushItems(tx, chat, mediaGroupId);
    });
  }

  private async flushItems(q: SqlRunner, chat: string, mediaGroupId: string): Promise<void> {
    const rows = await q.all<ItemRow>(
      `SELECT chat_id, telegram_message_id, user_id, kind, photo_url, caption, thread_id, received_at FROM agent_album_items
       WHERE chat_id = ? AND media_group_id = ? AND delivered_at IS NULL ORDER BY telegram_message_id`,
      [chat, mediaGroupId],
    );
    if (rows.length === 0) return;
    const newest = Math.max(...rows.map((r) => readTime(r.received_at).getTime()));
    const quietFor = this.now().getTime() - newest;
    if (quietFor < this.quietMs) return this.arm(chat, mediaGroupId, this.quietMs - quietFor);
    const first = rows[0] as ItemRow;
    const photos = rows.filter((r) => r.kind === "photo");
    const album: CollectedAlbum = {
      chatId: Number(first.chat_id),
      userId: first.user_id,
      firstMessageId: (photos[0] ?? first).telegram_message_id,
      // Telegram puts an album's caption on one item, usually the first.
      text: rows.find((r) => r.caption.trim() !== "")?.caption ?? "",
      photoUrls: photos.map((r) => r.photo_url).filter((u): u is string => u !== null),
      firstOtherMessageId: rows.find((r) => r.kind === "other")?.telegram_message_id ?? null,
      threadId: first.thread_id,
    };
    await this.deps.deliver(album);
    await q.run(`UPDATE agent_album_items SET delivered_at = ? WHERE chat_id = ? AND media_group_id = ? AND delivered_at IS NULL`, [this.now(), chat, mediaGroupId]);
    await this.prune();
  }

  /** Delivered albums are remembered a week (late items, redeliveries come within hours), then forgotten. */
  private async prune(): Promise<void> {
    const now = this.now().getTime();
    if (now - this.lastPrune < 3600_000) return;
    this.lastPrune = now;
    await this.deps.sql.run(`DELETE FROM agent_album_items WHERE delivered_at IS NOT NULL AND delivered_at < ?`, [new Date(now - 7 * 24 * 3600_000)]);
  }
}
