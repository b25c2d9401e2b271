// Delivers user messages into the support group from the outbox, strictly in
// the order they were accepted (one group, so that is per user and per group
// order at once), within Telegram's pacing, through outages and restarts.
//
// Progress of a multi-call post (long text pieces, then photos) is committed
// after every call together with the mapping of the messages Telegram made,
// so a crash repeats at most the one call whose answer was not yet recorded:
// the window between Telegram accepting a call and our synchronous commit.
import type { Database } from "better-sqlite3";
import type { Logger } from "../logger.js";
import type { GroupPost } from "../ports.js";
import type { MappingStore } from "../support/mapping-store.js";
import type { MessageStore } from "../support/message-store.js";
import { planGroupPost, type GroupCall } from "../telegram/group-post-plan.js";
import type { GroupSender } from "../telegram/group-sender.js";
import { classifySendError } from "../telegram/send-errors.js";
import type { OutboxJob, OutboxStore } from "./outbox-store.js";
import type { GroupPacer } from "./pacer.js";
import { Backoff } from "./backoff.js";
import { WakeableLoop } from "./wakeable-loop.js";

export const GROUP_POST = "group_post";

export interface GroupPostPayload {
  post: GroupPost;
  /** index of the next call of the plan */
  step: number;
  /** Telegram ids of the messages made so far */
  sentIds: number[];
  /** from this step on, photos go as links (Telegram could not take them) */
  linksFrom?: number;
}

/** Told when Telegram's answer to a call is durably recorded (metrics, measurements). */
export interface DeliveryObserver {
  recorded(telegramIds: readonly number[]): void;
}

export type DeliveryOutcome = { delivery: "sent"; telegramMessageId: number } | { delivery: "queued" };

export interface GroupDeliveryDeps {
  db: Database;
  outbox: OutboxStore;
  messages: MessageStore;
  mappings: MappingStore;
  sender: GroupSender | null;
  pacer: GroupPacer;
  logger: Logger;
  publicOrigin?: string;
  now?: () => number;
  backoff?: Backoff;
  /** slower retries for refusals only an operator can fix (chat not found, bot removed) */
  refusalBackoff?: Backoff;
  observer?: DeliveryObserver;
}

export class GroupDelivery {
  private readonly loop: WakeableLoop;
  private readonly waiters = new Map<number, (outcome: DeliveryOutcome) => void>();
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly refusalBackoff: Backoff;

  constructor(private readonly deps: GroupDeliveryDeps) {
    this.now = deps.now ?? Date.now;
    this.backoff = deps.backoff ?? new Backoff(1_000, 60_000);
    this.refusalBackoff = deps.refusalBackoff ?? new Backoff(30_000, 10 * 60_000);
    this.loop = new WakeableLoop(() => this.step(), (error) => deps.logger.error({ err: error }, "group delivery loop failed; retrying"));
  }

  get enabled(): boolean {
    return this.deps.sender !== null;
  }

  start(): void {
    if (this.deps.sender) {
      this.deps.pacer.seed(this.deps.mappings.sentSince(this.deps.sender.chatId, new Date(this.now() - 60_000)));
    }
    this.loop.start();
  }

  /** Something was enqueued: look at the queue now rather than at the next timer. */
  kick(): void {
    this.loop.wake();
  }

  /**
   * Resolves when the job is sent, or as "queued" as soon as something
   * (pacing, an outage, a backlog that is being held, no group configured)
   * holds it back, or after `timeoutMs`.
   */
  awaitOutcome(jobId: number, timeoutMs: number): Promise<DeliveryOutcome> {
    if (!this.deps.sender) return Promise.resolve({ delivery: "queued" });
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ delivery: "queued" }), timeoutMs);
      const settle = (outcome: DeliveryOutcome) => {
        clearTimeout(timer);
        this.waiters.delete(jobId);
        resolve(outcome);
      };
      this.waiters.set(jobId, settle);
      this.kick();
    });
  }

  /** Stops taking new jobs and waits for the call in flight, whose waiter still gets its answer. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    for (const settle of [...this.waiters.values()]) settle({ delivery: "queued" });
  }

  /** One unit of work; returns how long to sleep before the next (Infinity: until woken). */
  private async step(): Promise<number> {
    const { outbox, sender, pacer, logger } = this.deps;
    if (!sender) {
      this.releaseWaiters();
      return Infinity;
    }
    const now = this.now();
    // Under load most wake-ups find the group's budget spent: answer that
    // before reading and planning the head job.
    const paced = pacer.delayFor(1, now);
    if (paced > 0) {
      this.releaseWaiters();
      return paced;
    }
    const job = outbox.head<GroupPostPayload>("telegram");
    if (!job) {
      this.releaseWaiters();
      return Infinity;
    }
    const notBefore = job.nextAttemptAt.getTime() - now;
    if (notBefore > 0) {
      this.releaseWaiters();
      return notBefore;
    }
    const calls = this.plan(job.payload);
    const call = calls[job.payload.step];
    if (!call) {
      // Nothing left to send (the plan shrank after a fallback): done.
      this.complete(job, [], now);
      return 0;
    }
    const delay = pacer.delayFor(call.units, now);
    if (delay > 0) {
      this.releaseWaiters();
      return delay;
    }
    let ids: number[];
    try {
      ids = await sender.send(call);
    } catch (error) {
      return this.onFailure(job, call, error);
    }
    const at = this.now();
    pacer.record(Math.max(call.units, ids.length), at);
    if (job.payload.step + 1 >= calls.length) this.complete(job, ids, at);
    else {
      this.deps.db.transaction(() => {
        this.deps.mappings.record(sender.chatId, ids, job.userId, job.messageId, new Date(at));
        outbox.savePayload(job.id, { ...job.payload, step: job.payload.step + 1, sentIds: [...job.payload.sentIds, ...ids] });
      })();
    }
    // From Telegram's answer to here is the window in which a crash would
    // make us repeat this call (README, "Guarantees").
    this.deps.observer?.recorded(ids);
    logger.debug({ jobId: job.id, messageId: job.messageId, method: call.method, telegramIds: ids }, "posted to the support group");
    return 0;
  }

  private plan(payload: GroupPostPayload): GroupCall[] {
    const options = { publicOrigin: this.deps.publicOrigin };
    const calls = planGroupPost(payload.post, options);
    if (payload.linksFrom === undefined) return calls;
    if (payload.linksFrom === 0) return planGroupPost(payload.post, { ...options, photosAsLinks: true });
    // Text pieces already went out; only the photos remain, as links.
    const linkCalls = planGroupPost({ ...payload.post, text: "" }, { ...options, photosAsLinks: true });
    return [...calls.slice(0, payload.linksFrom), ...linkCalls];
  }

  private complete(job: OutboxJob<GroupPostPayload>, ids: number[], at: number): void {
    const { db, mappings, messages, outbox, sender } = this.deps;
    const first = job.payload.sentIds[0] ?? ids[0];
    db.transaction(() => {
      if (sender && ids.length > 0) mappings.record(sender.chatId, ids, job.userId, job.messageId, new Date(at));
      if (job.messageId !== null && first !== undefined && sender) messages.markSent(job.messageId, sender.chatId, first);
      outbox.remove(job.id);
    })();
    if (first !== undefined) this.waiters.get(job.id)?.({ delivery: "sent", telegramMessageId: first });
  }

  private onFailure(job: OutboxJob<GroupPostPayload>, call: GroupCall, error: unknown): number {
    const { outbox, pacer, logger } = this.deps;
    const failure = classifySendError(error);
    const now = this.now();
    // Anything but a photo fallback (retried at once) holds the queue back.
    if (failure.kind !== "photo_rejected") this.releaseWaiters();
    const context = { jobId: job.id, messageId: job.messageId, method: call.method, attempts: job.attempts + 1, reason: failure.description };
    switch (failure.kind) {
      case "rate_limited":
        pacer.pauseUntil(now + failure.retryAfterSeconds * 1000);
        logger.warn({ ...context, retryAfterSeconds: failure.retryAfterSeconds }, "Telegram asked us to slow down; waiting");
        outbox.reschedule(job.id, new Date(now), failure.description, false);
        return 0;
      case "photo_rejected":
        logger.warn(context, "Telegram could not take the photo; sending it as a link instead");
        outbox.savePayload(job.id, { ...job.payload, linksFrom: job.payload.step });
        return 0;
      case "transient": {
        const wait = this.backoff.delay(job.attempts);
        logger.warn({ ...context, retryInMs: wait }, "could not reach Telegram; will retry");
        outbox.reschedule(job.id, new Date(now + wait), failure.description, true);
        return 0;
      }
      case "refused": {
        const wait = this.refusalBackoff.delay(job.attempts);
        logger.error(
          { ...context, retryInMs: wait },
          "Telegram refused the post; check that the bot is in the group named by GROUP_CHAT_ID and may write there. The message stays queued",
        );
        outbox.reschedule(job.id, new Date(now + wait), failure.description, true);
        return 0;
      }
    }
  }
}
