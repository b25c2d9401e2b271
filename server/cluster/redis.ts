// The service's Redis connection (SPEC §8, cluster mode): one ioredis client
// from REDIS_URL, shared by the Socket.IO adapter, the rate limits and the
// shared Telegram pause. Built for a long-running service:
//
// - it reconnects forever with a capped backoff: Redis coming back after an
//   outage of any length must need no restart of ours;
// - an outage is logged once when it starts (with what to check) and once
//   when it ends, not once per reconnection attempt (ioredis emits an
//   `error` for each, several a second);
// - commands issued while disconnected wait in ioredis's offline queue and
//   are sent on reconnection (the Socket.IO adapter relies on this so a blip
//   loses no event). Callers that must not wait (the rate limits, the
//   readiness check) check `status` or put their own timeout on a call.
import { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { ReadinessCheck } from "../ops/readiness.js";

/** What the cluster modules take: an ioredis client, opened by openRedis. */
export type RedisClient = Redis;

export interface ServiceRedis {
  readonly client: RedisClient;
  /** where it points, without credentials: for log lines and errors */
  readonly target: string;
  /** QUIT (pending replies are awaited), or a plain disconnect when not connected */
  close(): Promise<void>;
}

export interface OpenRedisOptions {
  /** REDIS_URL: redis://[user:password@]host:port[/db] or rediss:// */
  url: string;
  logger: Logger;
  /** CLIENT SETNAME, so `CLIENT LIST` shows which instance holds which connection (INSTANCE_ID) */
  connectionName?: string;
  /** see SOCKET_TIMEOUT_MS; tests shorten it */
  socketTimeoutMs?: number;
}

/**
 * A connection with commands waiting and no byte back for this long is
 * dropped and reopened: a Redis that stopped answering without closing the
 * connection (a network cut without RST) would otherwise hold every
 * command until TCP gives up, minutes later. Must stay above the Socket.IO
 * adapter's XREAD BLOCK (5 s), whose connections copy these options.
 */
export const SOCKET_TIMEOUT_MS = 10_000;

/** Backoff between reconnection attempts: 100 ms doubling up to this. */
export const MAX_RECONNECT_DELAY_MS = 2_000;
/** How long close() waits for QUIT's answer before dropping the connection. */
const QUIT_TIMEOUT_MS = 1_000;

export function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), MAX_RECONNECT_DELAY_MS);
}

/** host:port/db of a Redis URL, never its user or password. */
export function redisTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const db = parsed.pathname.replace(/^\//, "");
    return `${parsed.hostname}:${parsed.port || "6379"}${db ? `/${db}` : ""}`;
  } catch {
    return "(REDIS_URL is not a URL)";
  }
}

export function openRedis({ url, logger, connectionName, socketTimeoutMs = SOCKET_TIMEOUT_MS }: OpenRedisOptions): ServiceRedis {
  const target = redisTarget(url);
  const client = new Redis(url, {
    connectionName,
    retryStrategy: reconnectDelayMs,
    // A command queued during an outage fails after this many reconnection
    // attempts (about 35 s with the backoff above) rather than waiting
    // forever and growing the queue without bound.
    maxRetriesPerRequest: 20,
    // The first connection attempt must not hang for ioredis's 10 s default
    // when the host does not answer.
    connectTimeout: 5_000,
    socketTimeout: socketTimeoutMs,
  });

  let closing = false;
  let downSince: number | null = null;
  const outageStarts = (what: string) => {
    if (closing || downSince !== null) return;
    downSince = Date.now();
    logger.error(
      { redis: target },
      `Redis at ${target}: ${what}. Reconnecting in the background (every ${MAX_RECONNECT_DELAY_MS / 1000} s at most); until then Socket.IO events between instances wait, and rate limits fall back to this instance's share. Check that Redis is running and that REDIS_URL points at it.`,
    );
  };
  client.on("error", (error: Error & { code?: string }) => {
    outageStarts(`unreachable (${error.code ?? error.message})`);
  });
  // A dropped connection (Redis restarted, CLIENT KILL, a network cut) emits
  // no error of its own.
  client.on("close", () => outageStarts("connection lost"));
  client.on("ready", () => {
    if (downSince === null) return;
    logger.info({ redis: target, downMs: Date.now() - downSince }, `Redis at ${target} is reachable again after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
    downSince = null;
  });

  return {
    client,
    target,
    async close() {
      closing = true;
      if (client.status === "end") return;
      // (not events.once: it rejects on the `error` a failing attempt emits)
      const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
      if (client.status === "ready") {
        let timer: NodeJS.Timeout | undefined;
        const gaveUp = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), QUIT_TIMEOUT_MS);
        });
        const outcome = await Promise.race([client.quit().catch(() => "failed" as const), gaveUp]);
        clearTimeout(timer);
        if (outcome !== "OK") client.disconnect();
      } else {
        // Between two attempts, ioredis's disconnect() only cancels the
        // timer: the client would stay "reconnecting" with its queued
        // commands pending forever. Starting the attempt first lets
        // disconnect() end it, rejecting what is queued.
        if (client.status === "reconnecting") client.connect().catch(() => undefined);
        client.disconnect();
      }
      await ended;
    },
  };
}

/** PING must answer within this for /ready; well under checkReadiness's own 2 s. */
const PING_TIMEOUT_MS = 1_000;

/**
 * /ready's Redis check: PING answered on the service's connection. Not
 * connected fails at once (a PING would only wait in the offline queue).
 */
export function redisCheck(redis: Pick<ServiceRedis, "client" | "target">): ReadinessCheck {
  return {
    name: "redis",
    async check() {
      const { client, target } = redis;
      if (client.status !== "ready") {
        throw new Error(`not connected to ${target} (${client.status}); check that Redis is running and that REDIS_URL points at it`);
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${target} did not answer PING within ${PING_TIMEOUT_MS} ms; Redis is overloaded or the network to it is slow`)), PING_TIMEOUT_MS);
      });
      try {
        await Promise.race([client.ping(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
