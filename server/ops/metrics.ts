// The numbers an operator alerts on (GET /metrics, Prometheus text format).
// One registry per app instance: tests start several apps in one process,
// and prom-client's global registry would mix their counts (or refuse the
// second registration of a name).
//
// Names follow Prometheus's conventions: snake_case, base units (seconds),
// `_total` on counters. Every label value comes from a fixed set or from
// the code (route patterns, Bot API method names): never a user id or a raw
// path, so the number of series stays bounded whatever clients send.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Lane, LaneStats } from "../outbox/outbox-store.js";
import type { PushTokenOutcome } from "../outbox/push-delivery.js";
import type { TelegramCallOutcome } from "../telegram/call-counter.js";

/** Route label of requests that matched no route of the service, and of those Next.js answered. */
export const UNMATCHED_ROUTE = "unmatched";
export const PAGES_ROUTE = "next";

const LANES: readonly Lane[] = ["telegram", "push", "desk"];
const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const BOT_API_METHOD = /^[A-Za-z]{1,64}$/;

export interface MetricsSources {
  /** depth and oldest job of a lane, read at scrape time */
  outboxStats(lane: Lane): Promise<LaneStats>;
  /** jobs set aside in a lane (a message Telegram refused for a reason of its own), read at scrape time */
  setAsideJobs(lane: Lane): Promise<number>;
  /** sockets connected to this instance now */
  connectedSockets(): number;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<"method" | "route" | "status">;
  private readonly httpDuration: Histogram<"method" | "route" | "status">;
  private readonly telegramCalls: Counter<"method" | "outcome">;
  private readonly pushes: Counter<"outcome">;
  private readonly leader: Gauge;

  constructor(sources: MetricsSources, now: () => number = Date.now) {
    const registers = [this.registry];
    // The depth and the age gauges collect together in one scrape: one read
    // of the lanes serves both (counting a backlog is the scrape's costliest part).
    let reading: Promise<Map<Lane, LaneStats>> | null = null;
    const laneStats = () =>
      (reading ??= Promise.all(LANES.map(async (lane) => [lane, await sources.outboxStats(lane)] as const))
        .then((entries) => new Map(entries))
        .finally(() => {
          reading = null;
        }));
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by method, route pattern (unmatched: no route; next: a Next.js page) and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time from a request's arrival to the end of its answer, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.telegramCalls = new Counter({
      name: "telegram_api_calls_total",
      help: "Telegram Bot API calls by method and outcome (ok, 429, 5xx, refused: Telegram answered 4xx, network: no answer)",
      labelNames: ["method", "outcome"],
      registers,
    });
    this.pushes = new Counter({
      name: "push_sends_total",
      help: "Push sends per device token by outcome (delivered, invalid: token deleted, retry: tried again later, dropped: given up)",
      labelNames: ["outcome"],
      registers,
    });
    this.leader = new Gauge({
      name: "leader",
      help: "1 when this instance is the one sending to Telegram, else 0",
      registers,
    });
    new Gauge({
      name: "outbox_jobs",
      help: "Jobs waiting in the outbox, by lane",
      labelNames: ["lane"],
      registers,
      async collect() {
        for (const [lane, stats] of await laneStats()) this.set({ lane }, stats.depth);
      },
    });
    new Gauge({
      name: "outbox_oldest_job_age_seconds",
      help: "Age of the oldest job waiting in the outbox, by lane (0 when empty); a growing value means the lane is stuck",
      labelNames: ["lane"],
      registers,
      async collect() {
        for (const [lane, { oldestCreatedAt: oldest }] of await laneStats()) this.set({ lane }, oldest ? Math.max(0, (now() - oldest.getTime()) / 1000) : 0);
      },
    });
    new Gauge({
      name: "outbox_set_aside_jobs",
      help: "Jobs set aside, by lane: messages Telegram refused for a reason of their own; each needs an operator (npm run outbox -- list)",
      labelNames: ["lane"],
      registers,
      async collect() {
        for (const lane of LANES) this.set({ lane }, await sources.setAsideJobs(lane));
      },
    });
    new Gauge({
      name: "realtime_connected_sockets",
      help: "Socket.IO connections open on this instance",
      registers,
      collect() {
        this.set(sources.connectedSockets());
      },
    });
  }

  observeRequest(method: string | undefined, route: string, status: number, seconds: number): void {
    const labels = { method: method && HTTP_METHODS.has(method) ? method : "other", route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  countTelegramCall(method: string, outcome: TelegramCallOutcome): void {
    this.telegramCalls.inc({ method: BOT_API_METHOD.test(method) ? method : "other", outcome });
  }

  countPushes(outcome: PushTokenOutcome, tokens: number): void {
    if (tokens > 0) this.pushes.inc({ outcome }, tokens);
  }

  /** Whether this instance holds the sender lease (server/cluster/lease.ts): the one that sends into the group. */
  setLeader(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
