// The outbox's Telegram lane: delivers user messages into the support group, strictly in
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
//
// Topic mode: before a user's first post the job makes the user's topic
// (createForumTopic) as a step of its own, recorded in the same transaction
// as the job's progress. The lane is strictly serial, so concurrent first
// messages and an album find the topic the first one made. A crash between
// Telegram creating the topic and our commit leaves that topic unrecorded:
// the step runs again and makes another, so at most one orphan topic (empty
// but for Telegram's service message) per crash, and never two in use,
// since only a recorded topic is posted to. A topic Telegram says was
// deleted is marked gone and the same step makes a new one; a closed one is
// reopened first. Either way the post waits at the head of the lane, so
// nothing is lost and order is kept.
//
// Several instances: only the sender lease's holder runs this lane. A
// request on another instance waits for its message's outcome through the
// database's notifications (OUTCOME_CHANNEL): the holder says "sent" for
// each job it completes, in the completing transaction, and "held" when it
// holds posts back, so /send_message answers as it does on one instance.
import type { Sql, SqlRunner } from "../db/sql.js";
import type { Logger } from "../logger.js";
import type { MappingStore } from "../support/mapping-store.js";
import type { MessageStore } from "../support/message-store.js";
import { fallbackAfter, planFromProgress, type GroupPostPayload, type PlannedCall } from "./group-post-fallback.js";
import type { GroupPost } from "../ports.js";
import type { GroupSender } from "./group-sender.js";
import { topicName, type TopicMode } from "./topics.js";
import type { TopicStore, UserTopic } from "./topics-store.js";
import { classifySendError, type SendFailure } from "./send-errors.js";
import type { OutboxJob, OutboxStore } from "../outbox/outbox-store.js";
import type { PostPacer } from "../outbox/group-budget.js";
import { Backoff } from "../outbox/backoff.js";
import { QUEUE_RECHECK_MS, WakeableLoop } from "../outbox/wakeable-loop.js";

export type { GroupPostPayload } from "./group-post-fallback.js";

export const GROUP_POST = "group_post";

/** The sender's word on jobs: `sent:<jobId>:<telegramMessageId>` or `held`. */
export const OUTCOME_CHANNEL = "outbox_outcomes";
/** At most one "held" notification per this long (and one after it, so none is missed). */
const HELD_NOTICE_MS = 25;

/** Told when Telegram's answer to a call is durably recorded (metrics, measurements). */
export interface DeliveryObserver {
  recorded(telegramIds: readonly number[]): void;
}

export type DeliveryOutcome = { delivery: "sent"; telegramMessageId: number } | { delivery: "queued" };

export interface GroupDeliveryDeps {
  sql: Sql;
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
  /** topic mode (SPEC §7); without it every post goes to the group as in reply mode */
  topics?: { mode: Pick<TopicMode, "enabled" | "deciding" | "disable">; store: TopicStore };
  /**
   * Whether this process may send into the group now (it holds the sender
   * lease, server/cluster/lease.ts); without it, always. Checked before
   * every call to Telegram.
   */
  mayLead?: () => boolean;
  /**
   * The fence, checked inside each transaction that records a send or a
   * retry: false when another process took the lease over meanwhile, and
   * then nothing is recorded (the new holder repeats at most that one call).
   */
  stillLeading?: (tx: SqlRunner) => Promise<boolean>;
  /**
   * Whether other processes wait for this lane's outcomes through the
   * database's notifications (PostgreSQL). Without it (SQLite, one
   * process per file sending) a process that does not send answers
   * "queued" at once, as nothing would tell it more.
   */
  sharedOutcomes?: boolean;
}

export class LeaseLostError extends Error {
  constructor() {
    super("this instance lost the sender lease while sending; the new holder carries on from the last recorded call");
    this.name = "LeaseLostError";
  }
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
  private lastHeldNotice = 0;
  private heldNoticeTimer: NodeJS.Timeout | null = null;
  private unlisten: (() => void) | null = null;

  constructor(private readonly deps: GroupDeliveryDeps) {
    this.now = deps.now ?? Date.now;
    this.backoff = deps.backoff ?? new Backoff(1_000, 60_000);
    this.refusalBackoff = deps.refusalBackoff ?? new Backoff(30_000, 10 * 60_000);
    this.loop = new WakeableLoop(
      () => this.step(),
      (error) =>
        error instanceof LeaseLostError
          ? deps.logger.warn(error.message)
          : deps.logger.error({ err: error }, "group delivery loop failed; retrying"),
      1_000,
      deps.recheckMs ?? QUEUE_RECHECK_MS,
    );
  }

  get enabled(): boolean {
    return this.deps.sender !== null;
  }

  async start(): Promise<void> {
    if (this.deps.sharedOutcomes && !this.unlisten) this.unlisten = await this.deps.sql.listen(OUTCOME_CHANNEL, (payload) => this.remoteOutcome(payload));
    const chatId = this.deps.sender?.chatId;
    if (chatId != null) await this.seedPacer(chatId);
    this.loop.start();
  }

  /** The group's pacing window after a restart, from when the last posts went out. */
  private async seedPacer(chatId: number): Promise<void> {
    this.deps.pacer.seed(await this.deps.mappings.sentSince(chatId, new Date(this.now() - 60_000)));
  }

  /** What the sending instance said about a job (OUTCOME_CHANNEL). */
  private remoteOutcome(payload: string): void {
    if (payload === "held") {
      if (!this.leading()) this.releaseWaiters();
      return;
    }
    const [kind, jobId, telegramMessageId] = payload.split(":");
    // The sender's own word comes back to it too; it settles its waiters itself, after recording.
    if (kind !== "sent" || this.leading()) return;
    this.waiters.get(Number(jobId))?.({ delivery: "sent", telegramMessageId: Number(telegramMessageId) });
  }

  /**
   * This process just became the sender (start-up, or taking over from one
   * that stopped): the pacing window is rebuilt from what the previous
   * sender recorded, then the queue is looked at.
   */
  async leadershipGained(): Promise<void> {
    const chatId = this.deps.sender?.chatId;
    if (chatId != null) await this.seedPacer(chatId);
    await this.deps.pacer.recallPause?.();
    this.kick();
  }

  /** A write of the sender's, in one transaction, refused when this process no longer holds the lease. */
  private async record(work: (tx: SqlRunner) => Promise<void>): Promise<void> {
    await this.deps.sql.transaction(async (tx) => {
      if (this.deps.stillLeading && !(await this.deps.stillLeading(tx))) throw new LeaseLostError();
      await work(tx);
    });
  }

  private leading(): boolean {
    return this.deps.mayLead ? this.deps.mayLead() : true;
  }

  /**
   * Takes the lane's order lock in the caller's transaction (PostgreSQL;
   * nothing on SQLite), so what it stores before enqueuePost (the user's
   * message, whose id the history orders by) follows the group's order too.
   */
  lockLane(tx: SqlRunner): Promise<void> {
    return this.deps.outbox.in(tx).lockLane("telegram");
  }

  /**
   * Queues a user's message for the group inside the caller's transaction
   * (the one that stores the message): the job's payload is this lane's
   * business, not the caller's. Resolves to the job's id.
   */
  enqueuePost(tx: SqlRunner, post: GroupPost): Promise<number> {
    const payload: GroupPostPayload = { post, step: 0, sentIds: [] };
    return this.deps.outbox.in(tx).enqueue({ lane: "telegram", kind: GROUP_POST, userId: post.userId, messageId: post.messageId, payload });
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
  awaitOutcome(jobId: number, messageId: number, timeoutMs: number): Promise<DeliveryOutcome> {
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
      // Another instance may have sent it before this one was listening for the word.
      if (this.deps.sharedOutcomes && !this.leading()) {
        void this.deps.messages.byId(messageId).then(
          (stored) => {
            if (stored?.delivery === "sent" && stored.telegramMessageId !== null) this.waiters.get(jobId)?.({ delivery: "sent", telegramMessageId: stored.telegramMessageId });
          },
          () => undefined,
        );
      }
    });
  }

  /** Stops taking new jobs and waits for the call in flight, whose waiter still gets its answer. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.unlisten?.();
    this.unlisten = null;
    if (this.heldNoticeTimer) clearTimeout(this.heldNoticeTimer);
    this.heldNoticeTimer = null;
    this.releaseWaiters();
  }

  /** Posts are held back (pacing, an outage, a backlog): every waiter, here and (held) on other instances, learns "queued". */
  private releaseWaiters(held = true): void {
    for (const settle of [...this.waiters.values()]) settle({ delivery: "queued" });
    if (held && this.deps.sharedOutcomes && this.leading()) this.noticeHeld();
  }

  private noticeHeld(): void {
    if (this.heldNoticeTimer) return;
    const wait = this.lastHeldNotice + HELD_NOTICE_MS - this.now();
    const send = () => {
      this.heldNoticeTimer = null;
      this.lastHeldNotice = this.now();
      this.deps.sql.notify(OUTCOME_CHANNEL, "held").catch((error: unknown) => this.deps.logger.debug({ err: error }, "could not tell other instances the posts are held"));
    };
    if (wait <= 0) send();
    else {
      this.heldNoticeTimer = setTimeout(send, wait);
      this.heldNoticeTimer.unref();
    }
  }

  /** One unit of work; returns how long to sleep before the next (Infinity: until woken, or the periodic recheck). */
  private async step(): Promise<number> {
    const { outbox, sender, pacer, logger } = this.deps;
    if (!sender || !this.leading()) {
      // Another process sends (or will, once it holds the lease):
      // leadershipGained() wakes this loop. A waiter here hears from the
      // sender when outcomes are shared, else learns "queued" now.
      if (!sender || !this.deps.sharedOutcomes) this.releaseWaiters();
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
    // SUPPORT_TOPICS=on and the start check has not answered yet: a moment's
    // wait, so a backlog after a restart goes into the users' topics.
    if (this.deps.topics?.mode.deciding) return 100;
    const job = await outbox.head<GroupPostPayload>("telegram");
    if (!job) {
      // Nothing is held back: a job another instance just enqueued may not be visible yet, and its waiter must not hear "held".
      this.releaseWaiters(false);
      return Infinity;
    }
    const notBefore = job.nextAttemptAt.getTime() - now;
    if (notBefore > 0) {
      this.releaseWaiters();
      return notBefore;
    }
    let threadId: number | undefined;
    const topics = this.deps.topics;
    if (topics?.mode.enabled) {
      const topic = await topics.store.forUser(chatId, job.userId);
      if (!topic || topic.state === "closed") return this.prepareTopic(job, chatId, topic, sender);
      threadId = topic.threadId;
    }
    const calls = planFromProgress(job.payload, { publicOrigin: this.deps.publicOrigin });
    const call = calls[job.payload.step];
    if (!call) {
      // Nothing left to send (the plan shrank after a fallback): done.
      await this.complete(job, chatId, [], now);
      return 0;
    }
    const delay = pacer.delayFor(call.units, now);
    if (delay > 0) {
      this.releaseWaiters();
      return delay;
    }
    if (!this.leading()) {
      if (!this.deps.sharedOutcomes) this.releaseWaiters();
      return Infinity;
    }
    let ids: number[];
    try {
      ids = await sender.send(call, threadId);
    } catch (error) {
      return this.onFailure(job, call, error, threadId);
    }
    const at = this.now();
    pacer.record(Math.max(call.units, ids.length), at);
    if (job.payload.step + 1 >= calls.length) await this.complete(job, chatId, ids, at);
    else {
      await this.record(async (tx) => {
        await this.deps.mappings.in(tx).record(chatId, ids, job.userId, job.messageId, new Date(at));
        await outbox.in(tx).savePayload(job.id, { ...job.payload, step: job.payload.step + 1, sentIds: [...job.payload.sentIds, ...ids] });
      });
    }
    // From Telegram's answer to here is the window in which a crash would
    // make us repeat this call (README, "Guarantees").
    this.deps.observer?.recorded(ids);
    logger.debug({ jobId: job.id, messageId: job.messageId, method: call.method, telegramIds: ids, threadId }, "posted to the support group");
    return 0;
  }

  /** The topic step: make the user's topic (none in use) or reopen it (closed), before the post. */
  private async prepareTopic(job: OutboxJob<GroupPostPayload>, chatId: number, topic: UserTopic | null, sender: GroupSender): Promise<number> {
    const { outbox, pacer, logger } = this.deps;
    const store = this.deps.topics?.store;
    if (!store) return 0;
    const now = this.now();
    // createForumTopic posts a service message into the group: it spends budget too.
    const delay = pacer.delayFor(1, now);
    if (delay > 0) {
      this.releaseWaiters();
      return delay;
    }
    const method = topic ? "reopenForumTopic" : "createForumTopic";
    try {
      if (topic) {
        await sender.reopenTopic(topic.threadId);
        await store.setState(chatId, topic.threadId, "open");
        logger.info({ jobId: job.id, userId: job.userId, threadId: topic.threadId }, "reopened the user's topic for their new message");
      } else {
        const threadId = await sender.createTopic(topicName(job.payload.post.userName, job.userId));
        const at = this.now();
        await this.record(async (tx) => {
          await store.in(tx).record(chatId, job.userId, threadId, new Date(at));
          await outbox.in(tx).savePayload(job.id, { ...job.payload, threadId });
        });
        logger.info({ jobId: job.id, userId: job.userId, threadId }, "created the user's topic in the support group");
      }
    } catch (error) {
      return this.onTopicFailure(job, chatId, topic, method, error);
    } finally {
      pacer.record(1, this.now());
    }
    return 0;
  }

  private async onTopicFailure(job: OutboxJob<GroupPostPayload>, chatId: number, topic: UserTopic | null, method: string, error: unknown): Promise<number> {
    const { pacer, logger } = this.deps;
    const topics = this.deps.topics;
    const failure = classifySendError(error);
    const now = this.now();
    const context = { jobId: job.id, userId: job.userId, method, threadId: topic?.threadId, reason: failure.description };
    if (failure.kind === "rate_limited" || failure.kind === "transient") this.releaseWaiters();
    if (failure.kind === "rate_limited") {
      pacer.pauseUntil(now + failure.retryAfterSeconds * 1000);
      await this.reschedule(job, new Date(now), failure.description, false);
      return 0;
    }
    if (failure.kind === "transient") {
      const wait = this.backoff.delay(job.attempts);
      logger.warn({ ...context, retryInMs: wait }, "could not reach Telegram to prepare the user's topic; will retry");
      await this.reschedule(job, new Date(now + wait), failure.description, true);
      return 0;
    }
    if (topic && /topic_not_modified/i.test(failure.description)) {
      // Someone reopened it in Telegram already.
      await topics?.store.setState(chatId, topic.threadId, "open");
      return 0;
    }
    if (topic && failure.kind === "topic_gone") {
      await topics?.store.setState(chatId, topic.threadId, "gone");
      logger.warn(context, "the user's topic was deleted in Telegram; a new one is made for their message");
      return 0;
    }
    // Telegram will not let the bot manage topics any more (rights taken
    // away, topics turned off): the posts go on in reply mode rather than
    // holding every user's messages.
    await topics?.mode.disable(`Telegram refused ${method} (${failure.description})`);
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
      const moved = await mappings.adoptChatId(sender.configured, chatId);
      await this.seedPacer(chatId);
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

  private async complete(job: OutboxJob<GroupPostPayload>, chatId: number, ids: number[], at: number): Promise<void> {
    const first = job.payload.sentIds[0] ?? ids[0];
    await this.record(async (tx) => {
      if (ids.length > 0) await this.deps.mappings.in(tx).record(chatId, ids, job.userId, job.messageId, new Date(at));
      if (job.messageId !== null && first !== undefined) await this.deps.messages.in(tx).markSent(job.messageId, chatId, first);
      await this.deps.outbox.in(tx).remove(job.id);
      if (this.deps.sharedOutcomes && first !== undefined) await tx.notify(OUTCOME_CHANNEL, `sent:${job.id}:${first}`);
    });
    if (first !== undefined) this.waiters.get(job.id)?.({ delivery: "sent", telegramMessageId: first });
  }

  /** The job's next attempt (fenced: a process that lost the lease leaves the job to the new sender). */
  private reschedule(job: OutboxJob<GroupPostPayload>, at: Date, reason: string, countAttempt: boolean): Promise<void> {
    return this.record((tx) => this.deps.outbox.in(tx).reschedule(job.id, at, reason, countAttempt));
  }

  private async onFailure(job: OutboxJob<GroupPostPayload>, call: PlannedCall, error: unknown, threadId: number | undefined): Promise<number> {
    const { pacer, logger } = this.deps;
    let failure = classifySendError(error);
    // Only a post into a topic can meet a topic's refusal; anything else is about the message.
    if ((failure.kind === "topic_gone" || failure.kind === "topic_closed") && threadId === undefined) failure = { kind: "message_rejected", description: failure.description };
    const now = this.now();
    const context = { jobId: job.id, messageId: job.messageId, userId: job.userId, method: call.method, attempts: job.attempts + 1, reason: failure.description };
    switch (failure.kind) {
      case "topic_gone":
      case "topic_closed": {
        const chatId = this.deps.sender?.chatId;
        if (chatId != null && threadId !== undefined) await this.deps.topics?.store.setState(chatId, threadId, failure.kind === "topic_gone" ? "gone" : "closed");
        logger.warn(context, failure.kind === "topic_gone" ? "the user's topic was deleted in Telegram; making a new one for the post" : "the user's topic is closed; reopening it for the post");
        // Counted, and spaced out after a few, so Telegram answering this
        // way to every attempt cannot spin the lane.
        const wait = job.attempts >= 3 ? this.backoff.delay(job.attempts - 3) : 0;
        // Otherwise the post goes out in a moment: the waiter may still get "sent".
        if (wait > 0) this.releaseWaiters();
        await this.reschedule(job, new Date(now + wait), failure.description, true);
        return 0;
      }
      case "rate_limited":
        this.releaseWaiters();
        pacer.pauseUntil(now + failure.retryAfterSeconds * 1000);
        logger.warn({ ...context, retryAfterSeconds: failure.retryAfterSeconds }, "Telegram asked us to slow down; waiting");
        await this.reschedule(job, new Date(now), failure.description, false);
        return 0;
      case "photo_rejected":
      case "message_rejected": {
        const after = fallbackAfter(job.payload, call);
        if (after.next === "set_aside") {
          this.releaseWaiters();
          await this.setAside(job, failure.description, now);
          return 0;
        }
        // Tried again at once, another way; the waiter may still get "sent".
        logger.warn({ ...context, sendingAs: after.how }, `Telegram refused the post as it was; sending it as ${after.how} instead`);
        await this.record(async (tx) => {
          const outbox = this.deps.outbox.in(tx);
          await outbox.savePayload(job.id, after.payload);
          await outbox.reschedule(job.id, new Date(now), failure.description, true);
        });
        return 0;
      }
      case "transient": {
        this.releaseWaiters();
        const wait = this.backoff.delay(job.attempts);
        logger.warn({ ...context, retryInMs: wait }, "could not reach Telegram; will retry");
        await this.reschedule(job, new Date(now + wait), failure.description, true);
        return 0;
      }
      case "chat_refused": {
        this.releaseWaiters();
        const wait = this.refusalBackoff.delay(job.attempts);
        logger.error(
          { ...context, retryInMs: wait },
          "Telegram refused to let the bot post into the support group; check that the bot is in the group named by GROUP_CHAT_ID and may write there, and that BOT_TOKEN is valid. The queue waits, in order, until then",
        );
        await this.reschedule(job, new Date(now + wait), failure.description, true);
        return 0;
      }
    }
  }

  /** Out of the queue's way, kept with the reason; the user's message stays in their history. */
  private async setAside(job: OutboxJob<GroupPostPayload>, reason: string, now: number): Promise<void> {
    const { logger } = this.deps;
    await this.record(async (tx) => {
      await this.deps.outbox.in(tx).setAside(job.id, reason, new Date(now));
      if (job.messageId !== null) await this.deps.messages.in(tx).markDelivery(job.messageId, "set_aside");
    });
    logger.error(
      { jobId: job.id, messageId: job.messageId, userId: job.userId, reason, partsSent: job.payload.sentIds.length },
      `Telegram refused a user's message every way it was tried (${reason}); it is set aside so the messages behind it go out, and stays in the user's history. ` +
        `See it with npm run outbox -- list; once the cause is fixed, npm run outbox -- retry ${job.id} sends it again`,
    );
  }
}
