// Exponential backoff with jitter, so many queued sends do not retry in step.
export class Backoff {
  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before attempt number `attempts + 1`. */
  delay(attempts: number): number {
    const exponential = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(attempts, 20));
    // 75–100 % of the exponential step
    return Math.round(exponential * (0.75 + 0.25 * this.random()));
  }
}
