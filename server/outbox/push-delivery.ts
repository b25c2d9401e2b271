// Delivers push notifications for support messages from the outbox. Pushes
// have no order to keep, so due jobs go out side by side; a token FCM calls
// invalid is deleted, a transient failure is retried for the failed tokens
// only, and a push that still fails after MAX_ATTEMPTS is dropped (the
// message itself is stored and in the history either way).
import type { SqlRunner } from "../db/sql.js";
import type { Logger } from "../logger.js";
import type { PushPort } from "../ports.js";
import type { MessageStore } from "../support/message-store.js";
import type { OutboxJob, OutboxStore } from "./outbox-store.js";
import { Backoff } from "./backoff.js";
import { QUEUE_RECHECK_MS, WakeableLoop } from "./wakeable-loop.js";

export const PUSH_MESSAGE = "push_message";
const MAX_ATTEMPTS = 8;
const BATCH = 16;

export interface PushPayload {
  /** only these tokens (a retry); all of the user's tokens when absent */
  tokens?: string[];
}

/** Per device token: delivered, invalid (token deleted), retry (tried again later), dropped (given up after retries). */
export type PushTokenOutcome = "delivered" | "invalid" | "retry" | "dropped";

export interface DeviceTokens {
  tokensOf(userId: string): Promise<string[]>;
  remove(tokens: readonly string[]): Promise<number>;
}

export interface PushDeliveryDeps {
  outbox: OutboxStore;
  messages: MessageStore;
  devices: DeviceTokens;
  push: PushPort;
  logger: Logger;
  backoff?: Backoff;
  now?: () => number;
  /** what became of a message's push: some token accepted it, or (final) none will */
  onOutcome?(messageId: number, outcome: "delivered" | "undeliverable"): void;
  /** told how many tokens each attempt ended with, by outcome (metrics) */
  observe?: (outcome: PushTokenOutcome, tokens: number) => void;
}

export class PushDelivery {
  private readonly loop: WakeableLoop;
  private readonly inFlight = new Set<number>();
  private readonly backoff: Backoff;
  private readonly now: () => number;

  constructor(private readonly deps: PushDeliveryDeps) {
    this.backoff = deps.backoff ?? new Backoff(2_000, 5 * 60_000);
    this.now = deps.now ?? Date.now;
    // Bounded sleeps: an operator's retry (npm run outbox) is noticed without a wake-up.
    this.loop = new WakeableLoop(() => this.step(), (error) => deps.logger.error({ err: error }, "push delivery loop failed; retrying"), 1_000, QUEUE_RECHECK_MS);
  }

  start(): void {
    if (this.deps.push.enabled) this.loop.start();
  }

  /** Queues the push of a support message inside the caller's transaction (the one that stores it). */
  enqueue(tx: SqlRunner, userId: string, messageId: number): Promise<number> {
    return this.deps.outbox.in(tx).enqueue<PushPayload>({ lane: "push", kind: PUSH_MESSAGE, userId, messageId, payload: {} });
  }

  kick(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async step(): Promise<number> {
    const { outbox } = this.deps;
    const jobs = (await outbox.due<PushPayload>("push", new Date(this.now()), BATCH)).filter((job) => !this.inFlight.has(job.id));
    if (jobs.length === 0) {
      const next = await outbox.nextDueAt("push");
      return next ? Math.max(50, next.getTime() - this.now()) : Infinity;
    }
    await Promise.all(jobs.map((job) => this.deliver(job)));
    return 0;
  }

  private report(messageId: number, outcome: "delivered" | "undeliverable"): void {
    try {
      this.deps.onOutcome?.(messageId, outcome);
    } catch (error) {
      this.deps.logger.warn({ err: error, messageId }, "the push outcome observer failed");
    }
  }

  private async deliver(job: OutboxJob<PushPayload>): Promise<void> {
    const { outbox, messages, devices, push, logger } = this.deps;
    this.inFlight.add(job.id);
    try {
      const message = job.messageId === null ? null : await messages.byId(job.messageId);
      const tokens = job.payload.tokens ?? (await devices.tokensOf(job.userId));
      if (!message || tokens.length === 0) {
        await outbox.remove(job.id);
        if (message) this.report(message.id, "undeliverable");
        return;
      }
      let outcome;
      try {
        // Counted as the push goes out, so the badge includes this message and drops what was read meanwhile.
        outcome = await push.send(message, tokens, { unread: await messages.unreadCount(job.userId) });
      } catch (error) {
        outcome = { delivered: 0, invalid: [], retry: tokens, error };
        logger.warn({ err: error, jobId: job.id }, "push failed");
      }
      const observe = this.deps.observe ?? (() => undefined);
      const givingUp = outcome.retry.length > 0 && job.attempts + 1 >= MAX_ATTEMPTS;
      observe("delivered", outcome.delivered);
      observe("invalid", outcome.invalid.length);
      observe(givingUp ? "dropped" : "retry", outcome.retry.length);
      if (outcome.invalid.length > 0) {
        const removed = await devices.remove(outcome.invalid);
        logger.info({ userId: job.userId, removed }, "removed device tokens FCM reported as unregistered or invalid");
      }
      if (outcome.delivered > 0) this.report(message.id, "delivered");
      if (outcome.retry.length > 0 && !givingUp) {
        const wait = this.backoff.delay(job.attempts);
        await outbox.savePayload(job.id, { tokens: outcome.retry });
        await outbox.reschedule(job.id, new Date(this.now() + wait), `${outcome.retry.length} token(s) to retry`, true);
        return;
      }
      if (outcome.retry.length > 0) logger.warn({ jobId: job.id, userId: job.userId, tokens: outcome.retry.length }, "giving up on a push after repeated failures");
      await outbox.remove(job.id);
      if (outcome.delivered === 0) this.report(message.id, "undeliverable");
    } finally {
      this.inFlight.delete(job.id);
    }
  }
}
