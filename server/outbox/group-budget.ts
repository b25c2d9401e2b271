// The support group's one budget (SPEC §7): everything the bot posts into
// the group shares Telegram's 20-a-minute window (pacer.ts), in this order:
//   1. users' posts (the outbox's telegram lane): the whole window;
//   2. answers to agents' commands, reminders, notices to agents: only while
//      no user post is waiting, and never into the last HEADROOM slots, so a
//      user's next post finds room; they wait for their turn;
//   3. reactions (delivery feedback): never into the last 2 × HEADROOM
//      slots, so the feedback on a busy afternoon's replies cannot use up
//      the room answers need; they never wait: when there is no room now
//      they are dropped.
// Whether Telegram counts reactions against the group's limit is not
// documented; they are counted here, which is the safe assumption.
import { GrammyError } from "grammy";
import type { SharedPause } from "../cluster/shared-pause.js";
import type { GroupPacer } from "./pacer.js";

export type BudgetPriority = "answer" | "reaction";

export interface GroupBudgetDeps {
  pacer: GroupPacer;
  /** whether a user's post is waiting to go into the group (the outbox's telegram lane has a job) */
  userPostWaiting(): Promise<boolean>;
  /** slots of the window left to users' posts (default: a quarter of the group's limit) */
  headroom: number;
  now?: () => number;
  /** how often a waiting answer looks again (default 250 ms) */
  pollMs?: number;
  /**
   * Where a 429's retry_after is kept for the next sender (Redis in a
   * cluster, server/cluster/shared-pause.ts): an instance that takes the
   * group over waits out what Telegram told its predecessor.
   */
  sharedPause?: SharedPause;
}

/** What the outbox lane asks: the pacer's own interface, for users' posts, and the shared pause. */
export type PostPacer = Pick<GroupPacer, "delayFor" | "record" | "pauseUntil" | "seed"> & {
  /** takes over the pause a previous sender was told (a no-op without a shared pause) */
  recallPause?(): Promise<void>;
};

const PAUSE_KEY = "telegram-group";

export class GroupBudget implements PostPacer {
  private readonly now: () => number;

  constructor(private readonly deps: GroupBudgetDeps) {
    this.now = deps.now ?? Date.now;
  }

  // ------------------------------------------------ users' posts: the whole window

  delayFor(units: number, now: number): number {
    return this.deps.pacer.delayFor(units, now);
  }

  record(units: number, at: number): void {
    this.deps.pacer.record(units, at);
  }

  pauseUntil(at: number): void {
    this.deps.pacer.pauseUntil(at);
    // Never throws (shared-pause.ts): Redis down leaves the pause local.
    void this.deps.sharedPause?.pauseUntil(PAUSE_KEY, at);
  }

  async recallPause(): Promise<void> {
    const until = await this.deps.sharedPause?.pausedUntil(PAUSE_KEY);
    if (until != null) this.deps.pacer.pauseUntil(until);
  }

  seed(stamps: readonly number[]): void {
    this.deps.pacer.seed(stamps);
  }

  // ------------------------------------------------ everything else

  /** The slots of the window a priority must leave free: users' posts' headroom, and for reactions the answers' too. */
  private keptFree(priority: BudgetPriority): number {
    return priority === "reaction" ? 2 * this.deps.headroom : this.deps.headroom;
  }

  private roomFor(units: number, priority: BudgetPriority): boolean {
    return this.deps.pacer.delayFor(units + this.keptFree(priority), this.now()) === 0;
  }

  /** Whether `units` of a lower priority may go now (nothing is taken). */
  async mayGo(units: number, priority: BudgetPriority = "answer"): Promise<boolean> {
    // The window first: it is in memory, the queue is a query.
    if (!this.roomFor(units, priority)) return false;
    return !(await this.deps.userPostWaiting()) && this.roomFor(units, priority);
  }

  /** A reaction: true and counted when it may go now, false (drop it) otherwise. */
  async tryTake(units = 1): Promise<boolean> {
    if (!(await this.mayGo(units, "reaction"))) return false;
    this.record(units, this.now());
    return true;
  }

  /** An answer or a reminder: waits for its turn, then counts it. */
  async take(units = 1, signal?: AbortSignal): Promise<void> {
    while (!(await this.mayGo(units))) {
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, this.deps.pollMs ?? 250));
    }
    this.record(units, this.now());
  }

  /**
   * Runs one send of a lower priority inside the budget: answers wait for
   * their turn, reactions are dropped (resolves null) when there is no room.
   * A 429 from Telegram pauses the whole group, users' posts included.
   */
  async send<T>(priority: BudgetPriority, send: () => Promise<T>, units = 1): Promise<T | null> {
    if (priority === "reaction") {
      if (!(await this.tryTake(units))) return null;
    } else {
      await this.take(units);
    }
    try {
      return await send();
    } catch (error) {
      const retryAfter = error instanceof GrammyError ? error.parameters.retry_after : undefined;
      if (retryAfter !== undefined) this.pauseUntil(this.now() + retryAfter * 1000);
      throw error;
    }
  }
}
