// Outgoing pacing for the support group. Telegram allows about 20 messages a
// minute into one group (album items count) and about 30 a second overall
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
// "Any 60 seconds" is a sliding window, so this keeps a log of send times;
// fixed-window limiters (rate-limiter-flexible's memory limiter, for one)
// would allow 40 messages across a window boundary.

export class SlidingWindowLog {
  private stamps: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    /** added to every wait: our clock and Telegram's see a send at slightly different moments */
    readonly marginMs = 0,
  ) {}

  /** Milliseconds until `units` more sends fit in the window. */
  delayFor(units: number, now: number): number {
    this.prune(now);
    const excess = this.stamps.length + Math.min(units, this.limit) - this.limit;
    if (excess <= 0) return 0;
    const freeingStamp = this.stamps[excess - 1] as number;
    return Math.max(0, freeingStamp + this.windowMs + this.marginMs - now);
  }

  record(units: number, at: number): void {
    for (let i = 0; i < units; i++) this.stamps.push(at);
  }

  /** Restores the window after a restart from when earlier sends happened. */
  seed(stamps: readonly number[]): void {
    this.stamps = [...stamps].sort((a, b) => a - b);
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.stamps.length && (this.stamps[drop] as number) + this.windowMs + this.marginMs <= now) drop++;
    if (drop > 0) this.stamps.splice(0, drop);
  }
}

export interface PacerLimits {
  perGroup: number;
  perGroupWindowMs: number;
  overall: number;
  overallWindowMs: number;
}

export const TELEGRAM_LIMITS: PacerLimits = { perGroup: 20, perGroupWindowMs: 60_000, overall: 30, overallWindowMs: 1_000 };

export class GroupPacer {
  private readonly group: SlidingWindowLog;
  private readonly overall: SlidingWindowLog;
  private pausedUntil = 0;

  constructor(limits: PacerLimits = TELEGRAM_LIMITS) {
    // Sends are stamped when Telegram's answer arrives, i.e. after Telegram
    // counted them; 250 ms more covers a slow answer to the earlier send.
    this.group = new SlidingWindowLog(limits.perGroup, limits.perGroupWindowMs, 250);
    this.overall = new SlidingWindowLog(limits.overall, limits.overallWindowMs, 50);
  }

  delayFor(units: number, now: number): number {
    return Math.max(this.pausedUntil - now, this.group.delayFor(units, now), this.overall.delayFor(units, now), 0);
  }

  record(units: number, at: number): void {
    this.group.record(units, at);
    this.overall.record(units, at);
  }

  /** Telegram's 429 `retry_after`: nothing goes out before then. */
  pauseUntil(at: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, at);
  }

  seed(stamps: readonly number[]): void {
    this.group.seed(stamps);
  }
}
