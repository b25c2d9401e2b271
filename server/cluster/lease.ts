// Holding a lease (server/cluster/lease-store.ts) for as long as this process
// runs: tries to take it every TTL/3, renews it every TTL/3 while held, and
// gives it up on stop so another process takes over at once rather than
// after the TTL.
//
// A holder that cannot renew (the database is slow or gone, the process was
// paused) stops being the holder at its own deadline: TTL after it *sent*
// its last successful renewal, which is never later than the database's
// idea of the expiry. So by the time another process can take the lease,
// this one has stopped on its own; the epoch fence catches what is still
// in flight.
import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import type { LeaseStore } from "./lease-store.js";

/** How long after the holder's expiry (database clock) a waiting process asks again. */
const RETRY_AFTER_EXPIRY_MS = 25;

export interface LeaseOptions {
  store: LeaseStore;
  /** which job: "group-sender" */
  name: string;
  /** this instance's name (INSTANCE_ID); a random part is added so two processes never share an owner */
  instanceId: string;
  ttlMs: number;
  logger: Logger;
  /** this process became the holder */
  onAcquired?: (epoch: number) => void;
  /** this process stopped being the holder (taken over, deadline passed, stop) */
  onLost?: () => void;
  /** monotonic clock, ms */
  now?: () => number;
}

export class Lease {
  readonly owner: string;
  private epochHeld: number | null = null;
  private deadline = 0;
  private timer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private tick: Promise<void> = Promise.resolve();
  private running = false;
  private readonly now: () => number;
  /** the next attempt's delay when not the default TTL/3 */
  private retryInMs: number | null = null;

  constructor(private readonly options: LeaseOptions) {
    this.owner = `${options.instanceId}/${randomBytes(4).toString("hex")}`;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether this process holds the lease now (and is within its own deadline). */
  get held(): boolean {
    return this.epochHeld !== null && this.now() < this.deadline;
  }

  /** The epoch held, for fenced writes; null when not held. */
  get epoch(): number | null {
    return this.held ? this.epochHeld : null;
  }

  /** First attempt now (resolves when it is done), then every TTL/3. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.attempt();
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = this.retryInMs ?? this.options.ttlMs / 3;
    this.retryInMs = null;
    this.timer = setTimeout(() => void this.attempt(), delay);
    this.timer.unref();
  }

  private attempt(): Promise<void> {
    this.tick = this.tick.then(() => this.tryOnce()).finally(() => this.schedule());
    return this.tick;
  }

  private async tryOnce(): Promise<void> {
    const { store, name, ttlMs, logger } = this.options;
    const sentAt = this.now();
    let grant;
    try {
      grant = await store.acquire(name, this.owner, ttlMs);
    } catch (error) {
      // Keep what we hold until our deadline; the deadline timer ends it.
      logger.warn({ err: error, lease: name }, "could not renew the lease in the database; retrying");
      return;
    }
    if (!this.running) {
      if (grant) await store.release(name, this.owner, grant.epoch).catch(() => undefined);
      return;
    }
    if (!grant) {
      if (this.epochHeld !== null) this.lose("another instance holds it now");
      // Try again just after the holder's lease runs out (if it is not
      // renewed by then), so a dead holder is replaced about one TTL after
      // its last renewal rather than up to TTL/3 later.
      const left = await store.expiresInMs(name).catch(() => null);
      if (left !== null) this.retryInMs = Math.min(ttlMs / 3, Math.max(0, left) + RETRY_AFTER_EXPIRY_MS);
      return;
    }
    const fresh = this.epochHeld !== grant.epoch || !this.held;
    this.epochHeld = grant.epoch;
    this.deadline = sentAt + ttlMs;
    this.armDeadline();
    if (fresh) {
      logger.info({ lease: name, owner: this.owner, epoch: grant.epoch }, `this instance holds the ${name} lease now`);
      this.options.onAcquired?.(grant.epoch);
    }
  }

  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => {
      if (this.epochHeld === null) return;
      // Timers may fire a little before the monotonic clock says so.
      if (this.now() < this.deadline) this.armDeadline();
      else this.lose("it could not be renewed in time");
    }, Math.max(0, this.deadline - this.now()) + 1);
    this.deadlineTimer.unref();
  }

  private lose(why: string): void {
    if (this.epochHeld === null) return;
    this.epochHeld = null;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.options.logger.warn({ lease: this.options.name, owner: this.owner }, `this instance no longer holds the ${this.options.name} lease: ${why}`);
    this.options.onLost?.();
  }

  /**
   * Stops renewing and gives the lease up. Call after the work the lease
   * guards has stopped, so the next holder starts where this one ended.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.tick.catch(() => undefined);
    if (this.timer) clearTimeout(this.timer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const epoch = this.epochHeld;
    this.epochHeld = null;
    if (epoch === null) return;
    try {
      await this.options.store.release(this.options.name, this.owner, epoch);
      this.options.logger.info({ lease: this.options.name, owner: this.owner }, `gave up the ${this.options.name} lease`);
    } catch (error) {
      this.options.logger.warn({ err: error, lease: this.options.name }, "could not give up the lease; another instance takes over when it expires");
    }
  }
}
