// Closed-loop load: `concurrency` workers, each with its own keep-alive
// connection, send one request, wait for the answer, send the next. Latency
// is measured per request from the write to the last byte of the answer; in
// a closed loop a slow server also lowers the offered rate, so p99 here is
// what a client with this many concurrent callers sees, not an open-loop
// figure.
//
// The machine is shared and noisy, so servers that are compared are measured
// in alternating rounds (floor, service, floor, service, …) after a warm-up
// each: a burst of noise then lands on both instead of on one cell.
import { performance } from "node:perf_hooks";
import { encodeRequest, KeepAliveConnection, type RequestSpec } from "./keep-alive-client.js";
import { summarize, type LatencySummary } from "./stats.js";

export interface LoadTarget {
  port: number;
  /** builds request number `i` (unique across workers and rounds) */
  request: (i: number) => RequestSpec;
  /** an answer counts as an error unless this returns true (default: status 200) */
  accept?: (status: number, body: Buffer) => boolean;
}

export interface LoadResult extends LatencySummary {
  concurrency: number;
  requests: number;
  errors: number;
  rps: number;
  seconds: number;
  firstError?: string;
}

export class LoadSession {
  private readonly connections: KeepAliveConnection[];
  private readonly latencies: number[] = [];
  private errors = 0;
  private firstError: string | undefined;
  private measuredMs = 0;
  private counter = Math.floor(Math.random() * 1e9);

  constructor(
    private readonly target: LoadTarget,
    readonly concurrency: number,
  ) {
    this.connections = Array.from({ length: concurrency }, () => new KeepAliveConnection("127.0.0.1", target.port));
  }

  /** Runs for `ms` (or until `stopAfter` requests); counts only when `measure`. */
  async run(ms: number, measure: boolean, stopAfter = Infinity): Promise<void> {
    if (ms <= 0) return;
    const accept = this.target.accept ?? ((status) => status === 200);
    const started = performance.now();
    const deadline = started + ms;
    let issued = 0;
    await Promise.all(
      this.connections.map(async (connection) => {
        while (performance.now() < deadline && issued++ < stopAfter) {
          const bytes = encodeRequest("127.0.0.1", this.target.port, this.target.request(this.counter++));
          const t0 = performance.now();
          try {
            const answer = await connection.request(bytes);
            const t1 = performance.now();
            if (!accept(answer.status, answer.body)) throw new Error(`status ${answer.status}: ${answer.body.toString("utf8").slice(0, 200)}`);
            if (measure) this.latencies.push(t1 - t0);
          } catch (error) {
            if (measure) {
              this.errors++;
              this.firstError ??= error instanceof Error ? error.message : String(error);
            }
            connection.destroy();
            // An error storm must not spin: pause before the next try.
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      }),
    );
    if (measure) this.measuredMs += performance.now() - started;
  }

  result(): LoadResult {
    return {
      concurrency: this.concurrency,
      requests: this.latencies.length,
      errors: this.errors,
      rps: this.latencies.length / (this.measuredMs / 1000),
      seconds: this.measuredMs / 1000,
      ...(this.firstError ? { firstError: this.firstError } : {}),
      ...summarize(this.latencies),
    };
  }

  close(): void {
    for (const c of this.connections) c.destroy();
  }
}

export interface CompareOptions {
  concurrency: number;
  warmupMs: number;
  /** measured time per target, split into `rounds` alternating rounds */
  durationMs: number;
  rounds: number;
}

/** Measures the targets side by side at one concurrency; results in the targets' order. */
export async function compareLoad(targets: LoadTarget[], options: CompareOptions): Promise<LoadResult[]> {
  const sessions = targets.map((t) => new LoadSession(t, options.concurrency));
  try {
    for (const session of sessions) await session.run(options.warmupMs, false);
    for (let round = 0; round < options.rounds; round++) {
      for (const session of sessions) await session.run(options.durationMs / options.rounds, true);
    }
    return sessions.map((s) => s.result());
  } finally {
    for (const s of sessions) s.close();
  }
}
