// A background loop that runs one step at a time, sleeps for as long as the
// step asks, and can be woken early (new work) or stopped (shutdown).
// `maxSleepMs` bounds every sleep: work can change where no wake() reaches
// (an operator's command from another process writes the database), and
// the loop must notice within that bound.
/**
 * The longest an outbox lane sleeps without looking at its jobs: an
 * operator's `npm run outbox -- retry|skip` changes them from another process.
 */
export const QUEUE_RECHECK_MS = 2_000;

export class WakeableLoop {
  private running = false;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly step: () => Promise<number>,
    private readonly onError: (error: unknown) => void,
    private readonly errorPauseMs = 1_000,
    private readonly maxSleepMs = Infinity,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.done = this.run();
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.done;
    this.running = false;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let sleepMs: number;
      this.woken = false;
      try {
        sleepMs = await this.step();
      } catch (error) {
        this.onError(error);
        sleepMs = this.errorPauseMs;
      }
      if (this.stopping) break;
      if (sleepMs > 0 && !this.woken) await this.sleep(Math.min(sleepMs, this.maxSleepMs));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(finish, Math.min(ms, 2_147_483_647)) : null;
      function finish() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        finish();
      };
    });
  }
}
