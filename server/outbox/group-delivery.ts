// Delivers user messages into the support group from the outbox, strictly in
// the order they were accepted (one group, so that is per user and per group
// order at once), within Telegram's pacing, through outages and restarts.
//
// Progress of a multi-call post (long text pieces, then photos) is committed
// after every call together with the mapping of the messages Telegram made,
// so a crash repeats at most the one call whose answer was not yet recorded:
// the window between Telegram accepting a call and our synchronous commit.
//
// Order is kept, but one message never holds the queue: a post Telegram
// refuses for a reason of its own is sent another way and, when that is
// refused too, set aside (kept, with the reason) so the rest go out. Only a
// refusal of the chat itself holds the queue (server/telegram/send-errors.ts
// draws that line).
import type { Database } from "better-sqlite3";
import type { Logger } from "../logger.js";
import type { MappingStore } from "../support/mapping-store.js";
import type { MessageStore } from "../support/message-store.js";
import { fallbackAfter, planFromProgress, type GroupPostPayload, type PlannedCall } from "../telegram/group-post-fallback.js";
import type { GroupSender } from "../telegram/group-sender.js";
import { classifySendError, type SendFailure } from "../telegram/send-errors.js";
import type { OutboxJob, OutboxStore } from "./outbox-store.js";
import type { PostPacer } from "./group-budget.js";
import { Backoff } from "./backoff.js";
import { QUEUE_RECHECK_MS, WakeableLoop } from "./wakeable-loop.js";

export type { GroupPostPayload } from "../telegram/group-post-fallback.js";

export const GROUP_POST = "group_post";


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
  /** the group's budget (group-budget.ts), which users' posts lead */
  pacer: PostPacer;
  logger: Logger;
  publicOrigin?: string;
  now?: () => number;
  backoff?: Backoff;
  /** slower retries for refusals only an operator can fix (chat not found, bot removed) */
  refusalBackoff?: Backoff;
  observer?: DeliveryObserver;
  /** default QUEUE_RECHECK_MS */
  recheckMs?: number;
}

export class GroupDelivery {
  private readonly loop: WakeableLoop;
  private readonly waiters = new Map<number, (outcome: DeliveryOutcome) => void>();
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly refusalBackoff: Backoff;
  /** failed attempts to learn the group's id (GROUP_CHAT_ID=@username) */
  private resolveAttempts = 0;
  private lastResolveError: string | null = null;
  private lastResolveFailure: SendFailure | null = null;

  constructor(private readonly deps: GroupDeliveryDeps) {
    this.now = deps.now ?? Date.now;
    this.backoff = deps.backoff ?? new Backoff(1_000, 60_000);
    this.refusalBackoff = deps.refusalBackoff ?? new Backoff(30_000, 10 * 60_000);
    this.loop = new WakeableLoop(
      () => this.step(),
      (error) => deps.logger.error({ err: error }, "group delivery loop failed; retrying"),
      1_000,
      deps.recheckMs ?? QUEUE_RECHECK_MS,
    );
  }

  get enabled(): boolean {
    return this.deps.sender !== null;
  }

  start(): void {
    const chatId = this.deps.sender?.chatId;
    if (chatId != null) this.seedPacer(chatId);
    this.loop.start();
  }

  /** The group's pacing window after a restart, from when the last posts went out. */
  private seedPacer(chatId: number): void {
    this.deps.pacer.seed(this.deps.mappings.sentSince(chatId, new Date(this.now() - 60_000)));
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

  /** One unit of work; returns how long to sleep before the next (Infinity: until woken, or the periodic recheck). */
  private async step(): Promise<number> {
    const { outbox, sender, pacer, logger } = this.deps;
    if (!sender) {
      this.releaseWaiters();
      return Infinity;
    }
    const chatId = sender.chatId ?? (await this.resolveGroup(sender));
    if (chatId === null) {
      this.releaseWaiters();
      return this.resolveWait();
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
    const calls = planFromProgress(job.payload, { publicOrigin: this.deps.publicOrigin });
    const call = calls[job.payload.step];
    if (!call) {
      // Nothing left to send (the plan shrank after a fallback): done.
      this.complete(job, chatId, [], now);
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
    if (job.payload.step + 1 >= calls.length) this.complete(job, chatId, ids, at);
    else {
      this.deps.db.transaction(() => {
        this.deps.mappings.record(chatId, ids, job.userId, job.messageId, new Date(at));
        outbox.savePayload(job.id, { ...job.payload, step: job.payload.step + 1, sentIds: [...job.payload.sentIds, ...ids] });
      })();
    }
    // From Telegram's answer to here is the window in which a crash would
    // make us repeat this call (README, "Guarantees").
    this.deps.observer?.recorded(ids);
    logger.debug({ jobId: job.id, messageId: job.messageId, method: call.method, telegramIds: ids }, "posted to the support group");
    return 0;
  }

  /**
   * Learns the group's numeric id (GROUP_CHAT_ID=@username) before the first
   * post; null while Telegram cannot say (then messages wait, queued).
   */
  private async resolveGroup(sender: GroupSender): Promise<number | null> {
    const { logger, mappings } = this.deps;
    try {
      const chatId = await sender.resolveChat();
      const moved = mappings.adoptChatId(sender.configured, chatId);
      this.seedPacer(chatId);
      this.resolveAttempts = 0;
      logger.info({ groupChatId: sender.configured, chatId, mappingsMoved: moved }, `GROUP_CHAT_ID=${sender.configured} is chat ${chatId}`);
      return chatId;
    } catch (error) {
      const failure = classifySendError(error);
      this.resolveAttempts += 1;
      // One line per distinct problem, not one per retry.
      if (failure.description !== this.lastResolveError) {
        this.lastResolveError = failure.description;
        if (failure.kind === "transient" || failure.kind === "rate_limited") {
          logger.warn({ groupChatId: sender.configured, reason: failure.description }, `cannot reach Telegram to look up GROUP_CHAT_ID=${sender.configured}; support messages stay queued and it is retried`);
        } else if (/^40[14] /.test(failure.description)) {
          logger.error({ groupChatId: sender.configured, reason: failure.description }, `Telegram does not accept the bot token (${failure.description}), so GROUP_CHAT_ID=${sender.configured} cannot be looked up: copy the token again from @BotFather. Support messages stay queued`);
        } else {
          logger.error(
            { groupChatId: sender.configured, reason: failure.description },
            `Telegram does not know the chat GROUP_CHAT_ID=${sender.configured} (${failure.description}): check the group's public @username, or set its numeric id (npm run telegram:group-id). Support messages stay queued`,
          );
        }
      }
      this.lastResolveFailure = failure;
      return null;
    }
  }

  private resolveWait(): number {
    const failure = this.lastResolveFailure;
    if (failure?.kind === "rate_limited") return failure.retryAfterSeconds * 1000;
    const backoff = failure?.kind === "transient" ? this.backoff : this.refusalBackoff;
    return backoff.delay(this.resolveAttempts - 1);
  }

  private complete(job: OutboxJob<GroupPostPayload>, chatId: number, ids: number[], at: number): void {
    const { db, mappings, messages, outbox } = this.deps;
    const first = job.payload.sentIds[0] ?? ids[0];
    db.transaction(() => {
      if (ids.length > 0) mappings.record(chatId, ids, job.userId, job.messageId, new Date(at));
      if (job.messageId !== null && first !== undefined) messages.markSent(job.messageId, chatId, first);
      outbox.remove(job.id);
    })();
    if (first !== undefined) this.waiters.get(job.id)?.({ delivery: "sent", telegramMessageId: first });
  }

  private onFailure(job: OutboxJob<GroupPostPayload>, call: PlannedCall, error: unknown): number {
    const { db, outbox, pacer, logger } = this.deps;
    const failure = classifySendError(error);
    const now = this.now();
    const context = { jobId: job.id, messageId: job.messageId, userId: job.userId, method: call.method, attempts: job.attempts + 1, reason: failure.description };
    switch (failure.kind) {
      case "rate_limited":
        this.releaseWaiters();
        pacer.pauseUntil(now + failure.retryAfterSeconds * 1000);
        logger.warn({ ...context, retryAfterSeconds: failure.retryAfterSeconds }, "Telegram asked us to slow down; waiting");
        outbox.reschedule(job.id, new Date(now), failure.description, false);
        return 0;
      case "photo_rejected":
      case "message_rejected": {
        const after = fallbackAfter(job.payload, call);
        if (after.next === "set_aside") {
          this.releaseWaiters();
          this.setAside(job, failure.description, now);
          return 0;
        }
        // Tried again at once, another way; the waiter may still get "sent".
        logger.warn({ ...context, sendingAs: after.how }, `Telegram refused the post as it was; sending it as ${after.how} instead`);
        db.transaction(() => {
          outbox.savePayload(job.id, after.payload);
          outbox.reschedule(job.id, new Date(now), failure.description, true);
        })();
        return 0;
      }
      case "transient": {
        this.releaseWaiters();
        const wait = this.backoff.delay(job.attempts);
        logger.warn({ ...context, retryInMs: wait }, "could not reach Telegram; will retry");
        outbox.reschedule(job.id, new Date(now + wait), failure.description, true);
        return 0;
      }
      case "chat_refused": {
        this.releaseWaiters();
        const wait = this.refusalBackoff.delay(job.attempts);
        logger.error(
          { ...context, retryInMs: wait },
          "Telegram refused to let the bot post into the support group; check that the bot is in the group named by GROUP_CHAT_ID and may write there, and that BOT_TOKEN is valid. The queue waits, in order, until then",
        );
        outbox.reschedule(job.id, new Date(now + wait), failure.description, true);
        return 0;
      }
    }
  }

  /** Out of the queue's way, kept with the reason; the user's message stays in their history. */
  private setAside(job: OutboxJob<GroupPostPayload>, reason: string, now: number): void {
    const { db, outbox, messages, logger } = this.deps;
    db.transaction(() => {
      outbox.setAside(job.id, reason, new Date(now));
      if (job.messageId !== null) messages.markDelivery(job.messageId, "set_aside");
    })();
    logger.error(
      { jobId: job.id, messageId: job.messageId, userId: job.userId, reason, partsSent: job.payload.sentIds.length },
      `Telegram refused a user's message every way it was tried (${reason}); it is set aside so the messages behind it go out, and stays in the user's history. ` +
        `See it with npm run outbox -- list; once the cause is fixed, npm run outbox -- retry ${job.id} sends it again`,
    );
  }
}
