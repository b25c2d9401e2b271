// "Telegram asked us to wait until T": a 429's retry_after, kept where the
// next sender finds it (SPEC §8). One instance sends into the group at a
// time; when it dies mid-pause, the instance that takes over must still wait
// out what Telegram told its predecessor, or it is told again (and for
// longer). In memory for one process (solo), in Redis for a cluster.
//
// Times are epoch milliseconds (Date.now()): retry_after is whole seconds,
// so the few milliseconds between two machines' clocks do not matter.
import type { Logger } from "../logger.js";
import type { RedisClient } from "./redis.js";

export interface SharedPause {
  /** Wait until `untilMs` before sending for `key`; an already stored later time wins. */
  pauseUntil(key: string, untilMs: number): Promise<void>;
  /** Until when `key` is paused, or null when it is not (or no longer). */
  pausedUntil(key: string): Promise<number | null>;
}

export class MemorySharedPause implements SharedPause {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  pauseUntil(key: string, untilMs: number): Promise<void> {
    this.store(key, untilMs);
    return Promise.resolve();
  }

  pausedUntil(key: string): Promise<number | null> {
    return Promise.resolve(this.read(key));
  }

  /** Synchronous forms, for RedisSharedPause's local copy. */
  store(key: string, untilMs: number): void {
    if (!Number.isFinite(untilMs) || untilMs <= this.now()) return;
    const current = this.until.get(key);
    if (current === undefined || untilMs > current) this.until.set(key, untilMs);
  }

  read(key: string): number | null {
    const until = this.until.get(key);
    if (until === undefined) return null;
    if (until > this.now()) return until;
    this.until.delete(key);
    return null;
  }
}

// Keeps the later of the stored and the new time, with the key expiring when
// the later one passes (PXAT, Redis 6.2+: absolute, so a write that waited
// in a queue does not stretch the pause): two senders that both got a 429
// (an old leader still finishing its call, the new one starting) never
// shorten each other's pause. ARGV: untilMs.
const PAUSE_UNTIL_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]))
local untilMs = tonumber(ARGV[1])
if current and current >= untilMs then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return 1
`;

/** ioredis states in which a call would only wait for a reconnection. */
const OUTAGE_STATES: ReadonlySet<string> = new Set(["reconnecting", "close", "end"]);

export interface RedisSharedPauseOptions {
  redis: RedisClient;
  logger: Logger;
  /** the keys' prefix in Redis; default "pause" */
  keyPrefix?: string;
  /** a Redis answer slower than this counts as Redis being unreachable */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * In Redis, with a local copy of every pause this process was told or read:
 * with Redis unreachable the sender still honours what it knows (a lost
 * write only costs the next leader a fresh 429), and the sender's loop never
 * waits on Redis for more than `timeoutMs`. Neither method throws.
 */
export class RedisSharedPause implements SharedPause {
  private readonly local: MemorySharedPause;
  private readonly redis: RedisClient;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private failing = false;

  constructor({ redis, logger, keyPrefix = "pause", timeoutMs = 500, now = Date.now }: RedisSharedPauseOptions) {
    this.redis = redis;
    this.logger = logger;
    this.prefix = keyPrefix;
    this.timeoutMs = timeoutMs;
    this.now = now;
    this.local = new MemorySharedPause(now);
  }

  async pauseUntil(key: string, untilMs: number): Promise<void> {
    this.local.store(key, untilMs);
    if (!Number.isFinite(untilMs) || untilMs <= this.now()) return;
    await this.inRedis("store", key, () => this.redis.eval(PAUSE_UNTIL_SCRIPT, 1, this.keyOf(key), String(Math.ceil(untilMs))));
  }

  async pausedUntil(key: string): Promise<number | null> {
    const stored = await this.inRedis("read", key, () => this.redis.get(this.keyOf(key)));
    const remote = typeof stored === "string" ? Number(stored) : NaN;
    if (Number.isFinite(remote)) this.local.store(key, remote);
    return this.local.read(key);
  }

  private keyOf(key: string): string {
    return `${this.prefix}:${key}`;
  }

  /** The call's answer, or undefined when Redis is not connected, fails or is too slow. */
  private async inRedis<T>(what: "store" | "read", key: string, call: () => Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      // Known to be down: the call would only wait in ioredis's offline
      // queue. Still connecting (a new leader just started) is worth the
      // wait: that is when the predecessor's pause matters most.
      if (OUTAGE_STATES.has(this.redis.status)) throw new Error(`not connected (${this.redis.status})`);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      const answer = await Promise.race([call(), timeout]);
      if (this.failing) {
        this.failing = false;
        this.logger.info({ key }, "shared Telegram pause: Redis answers again");
      }
      return answer;
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          { key, err: error },
          `shared Telegram pause: could not ${what} it in Redis (${error instanceof Error ? error.message : String(error)}); this instance honours the pauses it knows, another instance taking over may not`,
        );
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
