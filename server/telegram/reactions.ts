// Delivery feedback (SPEC §7): the bot reacts on the agent's message that
// became a support message, so the agent sees what happened to the reply:
//   🤷  nothing could reach the user now (no socket joined, no token FCM took):
//       they see it at the next open;
//   👌  it reached the app (a socket of the user got it, or FCM accepted it);
//   👀  the user read it in the app.
// ✅ would read better, but bots may only use the emoji of Telegram's
// ReactionTypeEmoji list (https://core.telegram.org/bots/api#reactiontypeemoji).
//
// A reaction only moves forward (🤷 → 👌 → 👀; the last one decided is kept
// in messages.agent_reaction), so a late push outcome never takes 👀 back.
// Reactions are best-effort: a failure (Telegram refusing, the group's
// budget full) is logged and dropped, never retried and never in the way
// of a user's post.
import type { SqlRunner } from "../db/sql.js";
import type { Logger } from "../logger.js";
import type { ChatMessage } from "../support/types.js";

export const REACTION = { nobody: "🤷", reached: "👌", read: "👀" } as const;
export type DeliveryReaction = (typeof REACTION)[keyof typeof REACTION];

const RANK: Record<string, number> = { [REACTION.nobody]: 1, [REACTION.reached]: 2, [REACTION.read]: 3 };

export interface DeliveryFeedbackDeps {
  sql: SqlRunner;
  logger: Logger;
  /** sets the reaction; resolves false when it was not sent (the budget was full) */
  setReaction(chatId: number, telegramMessageId: number, emoji: DeliveryReaction): Promise<boolean>;
  /** sockets in the user's room now */
  socketsOf(userId: string): Promise<number>;
  /** whether a push will be tried (FCM configured); its outcome comes through pushOutcome */
  pushEnabled: boolean;
}

interface TargetRow {
  telegram_chat_id: number | bigint;
  telegram_message_id: number;
  agent_reaction: string | null;
}

export class DeliveryFeedback {
  /** one reaction at a time per message, so they reach Telegram in the order decided */
  private readonly chains = new Map<number, Promise<void>>();

  constructor(private readonly deps: DeliveryFeedbackDeps) {}

  /** An agent's reply was stored and emitted: did a socket get it? If not, the push decides. */
  replied(message: ChatMessage): void {
    void this.deps
      .socketsOf(message.userId)
      .then((sockets) => {
        if (sockets > 0) this.react(message.id, REACTION.reached);
        else if (!this.deps.pushEnabled) this.react(message.id, REACTION.nobody);
      })
      .catch((error: unknown) => this.deps.logger.warn({ err: error, messageId: message.id }, "could not tell whether a socket got the reply; no reaction"));
  }

  pushOutcome(messageId: number, outcome: "delivered" | "undeliverable"): void {
    this.react(messageId, outcome === "delivered" ? REACTION.reached : REACTION.nobody);
  }

  read(messageIds: readonly number[]): void {
    for (const id of messageIds) this.react(id, REACTION.read);
  }

  /** Resolves when every reaction decided so far was sent or dropped (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  private react(messageId: number, emoji: DeliveryReaction): void {
    const previous = this.chains.get(messageId) ?? Promise.resolve();
    const next = previous.then(() => this.send(messageId, emoji));
    this.chains.set(messageId, next);
    void next.finally(() => {
      if (this.chains.get(messageId) === next) this.chains.delete(messageId);
    });
  }

  private async send(messageId: number, emoji: DeliveryReaction): Promise<void> {
    const { sql } = this.deps;
    const row = await sql.get<TargetRow>(
      `SELECT telegram_chat_id, telegram_message_id, agent_reaction FROM messages
       WHERE id = ? AND direction = 'support' AND telegram_message_id IS NOT NULL AND deleted_at IS NULL`,
      [messageId],
    );
    if (!row) return; // a greeting, or a message deleted meanwhile
    if ((RANK[row.agent_reaction ?? ""] ?? 0) >= (RANK[emoji] ?? 0)) return;
    const where = { messageId, chatId: Number(row.telegram_chat_id), telegramMessageId: row.telegram_message_id, emoji };
    // Kept as decided even if Telegram refuses it: a lesser outcome coming
    // later (no token for a reply a socket got) must not be shown instead.
    await sql.run(`UPDATE messages SET agent_reaction = ? WHERE id = ?`, [emoji, messageId]);
    try {
      if (!(await this.deps.setReaction(where.chatId, where.telegramMessageId, emoji))) {
        this.deps.logger.debug(where, "delivery reaction dropped: the group's budget is taken by users' posts");
      }
    } catch (error) {
      this.deps.logger.warn({ ...where, err: error }, "could not set the delivery reaction; dropped (agents only miss a hint)");
    }
  }
}
