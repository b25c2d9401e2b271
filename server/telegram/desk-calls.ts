// What the bot posts into the group besides users' posts: answers to
// agents' commands, notices to agents, delivery reactions. One instance at
// a time sends into the group (SPEC §8), so pacing holds for the cluster:
// the sender lease's holder runs these calls itself, inside the group's
// budget (server/outbox/group-budget.ts); any other instance (the webhook
// update landed there) queues them in the outbox's "desk" lane, and the
// holder runs them in order and says so (DONE_CHANNEL), so a webhook
// request waits for its answer as it would on one instance. They stay
// best-effort, as on one instance: an answer Telegram refuses is logged and
// dropped, a reaction with no room in the budget is dropped.
import type { Sql } from "../db/sql.js";
import type { Logger } from "../logger.js";
import type { OutboxStore } from "../outbox/outbox-store.js";
import { QUEUE_RECHECK_MS, WakeableLoop } from "../outbox/wakeable-loop.js";
import type { GroupTarget } from "./group-target.js";
import type { DeliveryReaction } from "./reactions.js";

export type DeskCall =
  | { kind: "answer"; chatId: number; target: GroupTarget; text: string }
  | { kind: "reaction"; chatId: number; messageId: number; emoji: DeliveryReaction }
  /** /close in topic mode: the user's topic is closed in the group */
  | { kind: "close_topic"; userId: string };

/** Whom a call is about, for the outbox row and log lines. */
const subjectOf = (call: DeskCall): string => (call.kind === "close_topic" ? call.userId : String(call.chatId));

export const DESK_CALL = "desk_call";
/** The sender's word that a queued call was made (or dropped): the job's id. */
const DONE_CHANNEL = "desk_calls_done";
const BATCH = 20;
/** A queued call's submitter stops waiting for the sender's word after this long. */
const WAIT_MS = 10_000;

export interface DeskCallsDeps {
  sql: Sql;
  outbox: OutboxStore;
  /** whether this instance holds the sender lease */
  leading(): boolean;
  /** makes the call into the group, within its budget; false when it was dropped (no room for a reaction) */
  run(call: DeskCall): Promise<boolean>;
  logger: Logger;
}

export class DeskCalls {
  private readonly loop: WakeableLoop;
  private readonly waiting = new Map<number, () => void>();
  private unlisten: (() => void) | null = null;

  constructor(private readonly deps: DeskCallsDeps) {
    this.loop = new WakeableLoop(
      () => this.step(),
      (error) => deps.logger.error({ err: error }, "the desk lane failed; retrying"),
      1_000,
      QUEUE_RECHECK_MS,
    );
  }

  /**
   * Makes the call here when this instance sends into the group; queues it
   * for the one that does otherwise. Resolves to what run() said, or true
   * once queued.
   */
  async submit(call: DeskCall): Promise<boolean> {
    if (this.deps.leading()) return this.deps.run(call);
    let done!: Promise<void>;
    await this.deps.sql.transaction(async (tx) => {
      const id = await this.deps.outbox.in(tx).enqueue<DeskCall>({ lane: "desk", kind: DESK_CALL, userId: subjectOf(call), messageId: null, payload: call });
      // Listening before the commit: the sender cannot answer before it sees the job.
      done = new Promise<void>((resolve) => {
        const timer = setTimeout(() => finish(), WAIT_MS);
        const finish = () => {
          clearTimeout(timer);
          this.waiting.delete(id);
          resolve();
        };
        this.waiting.set(id, finish);
      });
    });
    await done;
    return true;
  }

  /** Hears the sender's word on queued calls (every instance). */
  async attach(): Promise<void> {
    this.unlisten ??= await this.deps.sql.listen(DONE_CHANNEL, (id) => this.waiting.get(Number(id))?.());
  }

  /** The sender's part: runs what other instances queued. */
  start(): void {
    this.loop.start();
  }

  kick(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Shutdown: no more waiting for the sender's word. */
  detach(): void {
    this.unlisten?.();
    this.unlisten = null;
    for (const finish of [...this.waiting.values()]) finish();
  }

  private async step(): Promise<number> {
    if (!this.deps.leading()) return Infinity;
    const jobs = await this.deps.outbox.due<DeskCall>("desk", new Date(), BATCH);
    for (const job of jobs) {
      try {
        if (!(await this.deps.run(job.payload))) this.deps.logger.debug({ jobId: job.id, kind: job.payload.kind }, "a queued desk call was dropped: the group's budget is taken by users' posts");
      } catch (error) {
        this.deps.logger.warn({ err: error, jobId: job.id, kind: job.payload.kind, subject: subjectOf(job.payload) }, "Telegram refused a queued call into the support group; dropped");
      }
      // Done either way: best-effort, never retried (as on one instance).
      await this.deps.outbox.remove(job.id);
      await this.deps.sql.notify(DONE_CHANNEL, String(job.id));
    }
    return jobs.length === BATCH ? 0 : Infinity;
  }
}
