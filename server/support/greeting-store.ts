// The once-a-day greeting (seed 1): the first history request of a user on a
// calendar day adds "Здравствуйте, {name}!" as a support message. The
// (user, day) row and the message are written in one transaction, and
// INSERT OR IGNORE makes concurrent first requests add exactly one.
import type { Database, Statement, Transaction } from "better-sqlite3";
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
  private readonly claimStmt: Statement<[string, string]>;
  private readonly greet: Transaction<(userId: string, userName: string | null, day: string, at: Date) => ChatMessage | null>;
  // Users already greeted today: spares the hot history path a write.
  private greetedDay = "";
  private readonly greeted = new Set<string>();

  constructor(db: Database, messages: MessageStore) {
    this.claimStmt = db.prepare(`INSERT OR IGNORE INTO greetings_sent (user_id, day) VALUES (?, ?)`);
    this.greet = db.transaction((userId: string, userName: string | null, day: string, at: Date) => {
      if (this.claimStmt.run(userId, day).changes === 0) return null;
      // The user is looking at the chat as it is added: a greeting never waits as unread.
      return messages.insert({ userId, userName: null, text: greetingText(userName), direction: "support", photoUrls: [], createdAt: at, readAt: at });
    });
  }

  /** Adds today's greeting for the user unless there is one; returns it when added. */
  greetOnce(userId: string, userName: string | null, now: Date): ChatMessage | null {
    const day = localDay(now);
    if (day !== this.greetedDay) {
      this.greeted.clear();
      this.greetedDay = day;
    }
    if (this.greeted.has(userId)) return null;
    const message = this.greet(userId, userName, day, now);
    this.greeted.add(userId);
    return message;
  }
}
