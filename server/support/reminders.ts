// Reminders (SPEC §7, SUPPORT_REMINDER_MINUTES): a user whose message has
// waited N minutes with no agent reply gets one reminder in the group,
// naming the user and the wait, as a reply to their newest waiting post.
//
// A wait starts with the user's first message after the last agent reply
// (greetings are no reply: they have no Telegram message) and after what
// the last /close covered; it ends with a reply or a /close. It is
// identified by that first message, and support_users.reminded_for_message_id
// records that its reminder went out, so one wait gets one reminder, also
// across restarts: everything is computed from the database on each check
// (every 30 s, and at start), nothing from timers alone.
import { readTime, type SqlRunner, type SqlTime } from "../db/sql.js";
import type { Logger } from "../logger.js";

export interface Waiting {
  userId: string;
  userName: string | null;
  /** the message that opened the wait */
  firstMessageId: number;
  since: Date;
  /** the newest waiting post in the group: the reminder replies to it */
  chatId: number;
  telegramMessageId: number;
}

export interface RemindersDeps {
  sql: SqlRunner;
  logger: Logger;
  /** SUPPORT_REMINDER_MINUTES (> 0) */
  minutes: number;
  /** posts the reminder; resolves false when it was not sent (the group's budget said wait) */
  post(waiting: Waiting, text: string): Promise<boolean>;
  now?: () => Date;
  checkEveryMs?: number;
}

interface WaitingRow {
  user_id: string;
  user_name: string | null;
  first_id: number;
  first_at: SqlTime;
  telegram_chat_id: number | bigint;
  telegram_message_id: number;
}

export function reminderText(waiting: Pick<Waiting, "userId" | "userName">, minutes: number): string {
  const name = waiting.userName?.trim() || "Пользователь";
  return `⏰ ${name} · ${waiting.userId} ждёт ответа ${minutes} мин.`;
}

export class Reminders {
  private readonly waitingSql: string;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly deps: RemindersDeps) {
    this.now = deps.now ?? (() => new Date());
    // Per user: the waiting messages are the user's messages after the last
    // agent reply and after what the last /close covered.
    // SQLite's two-argument MAX is PostgreSQL's GREATEST.
    const later = deps.sql.dialect === "postgres" ? "GREATEST" : "MAX";
    this.waitingSql = `
      WITH answered AS (
        SELECT user_id, MAX(id) AS up_to FROM messages
        WHERE direction = 'support' AND telegram_message_id IS NOT NULL GROUP BY user_id
      ),
      waits AS (
        SELECT m.user_id, MIN(m.id) AS first_id, MAX(CASE WHEN m.telegram_message_id IS NOT NULL THEN m.id END) AS posted_id
        FROM messages m
        LEFT JOIN answered a ON a.user_id = m.user_id
        LEFT JOIN support_users u ON u.user_id = m.user_id
        WHERE m.direction = 'user' AND m.id > ${later}(COALESCE(a.up_to, 0), COALESCE(u.closed_up_to_id, 0)) AND u.banned_at IS NULL
        GROUP BY m.user_id
      )
      SELECT w.user_id, w.first_id, f.created_at AS first_at, p.telegram_chat_id, p.telegram_message_id,
             (SELECT user_name FROM messages n WHERE n.user_id = w.user_id AND n.direction = 'user' AND n.user_name IS NOT NULL ORDER BY n.id DESC LIMIT 1) AS user_name
      FROM waits w
      JOIN messages f ON f.id = w.first_id
      JOIN messages p ON p.id = w.posted_id
      LEFT JOIN support_users u ON u.user_id = w.user_id
      WHERE f.created_at <= ? AND (u.reminded_for_message_id IS NULL OR u.reminded_for_message_id <> w.first_id)
      ORDER BY w.first_id
      LIMIT 50`;
  }

  start(): void {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.deps.checkEveryMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: every wait past N minutes without its reminder gets it. Overlapping calls share one pass. */
  check(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    const now = this.now();
    const dueBefore = new Date(now.getTime() - this.deps.minutes * 60_000);
    let rows: WaitingRow[];
    try {
      rows = await this.deps.sql.all<WaitingRow>(this.waitingSql, [dueBefore]);
    } catch (error) {
      this.deps.logger.error({ err: error }, "could not look for users waiting for a reply; reminders try again at the next check");
      return;
    }
    for (const row of rows) {
      const waiting: Waiting = {
        userId: row.user_id,
        userName: row.user_name,
        firstMessageId: row.first_id,
        since: readTime(row.first_at),
        chatId: Number(row.telegram_chat_id),
        telegramMessageId: row.telegram_message_id,
      };
      const minutes = Math.max(this.deps.minutes, Math.floor((now.getTime() - waiting.since.getTime()) / 60_000));
      try {
        if (!(await this.deps.post(waiting, reminderText(waiting, minutes)))) continue;
        // Recorded once Telegram took it: a failed post is tried again at the next check.
        await this.deps.sql.run(
          `INSERT INTO support_users (user_id, reminded_for_message_id, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET reminded_for_message_id = excluded.reminded_for_message_id, updated_at = excluded.updated_at`,
          [waiting.userId, waiting.firstMessageId, now],
        );
        this.deps.logger.info({ userId: waiting.userId, messageId: waiting.firstMessageId, minutes }, "reminder posted: a user is waiting for a reply");
      } catch (error) {
        this.deps.logger.warn({ err: error, userId: waiting.userId }, "could not post a reminder; trying again at the next check");
      }
    }
  }
}
