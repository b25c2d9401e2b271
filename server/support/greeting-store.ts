// The once-a-day greeting (seed 1): the first history request of a user on a
// calendar day adds "Здравствуйте, {name}!" as a support message. The
// (user, day) row and the message are written in one transaction, and
// ON CONFLICT DO NOTHING makes concurrent first requests (on any instance)
// add exactly one.
import type { Sql } from "../db/sql.js";
import type { MessageStore } from "./message-store.js";
import type { ChatMessage } from "./types.js";

export function greetingText(userName: string | null | undefined): string {
  const name = userName?.trim();
  return name ? `Здравствуйте, ${name}!` : "Здравствуйте!";
}

/** The calendar day in the server's time zone (the TZ variable), YYYY-MM-DD. */
export function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export class GreetingStore {
  // Users already greeted today: spares the hot history path a write.
  private greetedDay = "";
  private readonly greeted = new Set<string>();

  constructor(
    private readonly sql: Sql,
    private readonly messages: MessageStore,
  ) {}

  /** Adds today's greeting for the user unless there is one; returns it when added. */
  async greetOnce(userId: string, userName: string | null, now: Date): Promise<ChatMessage | null> {
    const day = localDay(now);
    if (day !== this.greetedDay) {
      this.greeted.clear();
      this.greetedDay = day;
    }
    if (this.greeted.has(userId)) return null;
    const message = await this.sql.transaction(async (tx) => {
      if ((await tx.run(`INSERT INTO greetings_sent (user_id, day) VALUES (?, ?) ON CONFLICT DO NOTHING`, [userId, day])) === 0) return null;
      // The user is looking at the chat as it is added: a greeting never waits as unread.
      return this.messages.in(tx).insert({ userId, userName: null, text: greetingText(userName), direction: "support", photoUrls: [], createdAt: now, readAt: now });
    });
    this.greeted.add(userId);
    return message;
  }
}
