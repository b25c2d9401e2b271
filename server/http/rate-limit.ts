// Inbound rate limits (SPEC §2): per client address, checked before a
// request's body is read; per user, checked as soon as the user is known
// (and proven, with USER_HASH_SECRET) and before anything is stored; per
// socket for Socket.IO joins. What the limits are, and how an operator sets
// them, is server/config/rate-limits.ts. Counters by rate-limiter-flexible:
// in memory for one process (solo), in Redis when several instances share
// the limits (SPEC §8), with an in-memory share of each limit as the
// fallback while Redis is unreachable.
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from "rate-limiter-flexible";
import type { RedisClient } from "../cluster/redis.js";
import type { IpLimitedAction, RateLimits, RateRule, SocketLimitedAction, UserLimitedAction } from "../config/rate-limits.js";
import { AppError } from "../errors.js";

export type { IpLimitedAction, RateLimits, RateRule, SocketLimitedAction, UserLimitedAction } from "../config/rate-limits.js";

/** Replacements for some limits (tests, the benchmark); null turns one off. */
export interface RateLimitOverrides {
  perUser?: Partial<Record<UserLimitedAction, RateRule | null>>;
  perIp?: Partial<Record<IpLimitedAction, RateRule | null>>;
  perSocket?: Partial<Record<SocketLimitedAction, RateRule | null>>;
}

export interface RequestLimiterOptions {
  limits: RateLimits;
  /**
   * Take the client's address from X-Forwarded-For (its last hop) instead of
   * the socket: only behind a reverse proxy that sets it, since anyone can
   * send the header.
   */
  trustProxy: boolean;
  /**
   * Count per user and per address in Redis, across every instance (SPEC
   * §8); per connection stays in memory. While Redis is
   * unreachable (or slower than REDIS_TIMEOUT_MS) each instance counts in
   * memory with 1/instances of each limit (rounded up, at least 1), so the
   * cluster as a whole stays near its limits instead of opening them.
   */
  shared?: SharedLimits;
}

export interface SharedLimits {
  redis: RedisClient;
  /** how many instances share the limits (the fallback's divisor) */
  instances: number;
  /** the keys' prefix in Redis; default "rl" */
  keyPrefix?: string;
}

/** A Redis answer slower than this counts as an outage: the request is counted in memory instead of waiting. */
export const REDIS_TIMEOUT_MS = 500;

export function withOverrides(limits: RateLimits, overrides: RateLimitOverrides = {}): RateLimits {
  return {
    perUser: { ...limits.perUser, ...overrides.perUser },
    perIp: { ...limits.perIp, ...overrides.perIp },
    perSocket: { ...limits.perSocket, ...overrides.perSocket },
  };
}

interface Consumer {
  consume(key: string): Promise<RateLimiterRes>;
}

/** One instance's share of a limit while the instances cannot count together. */
export function instanceShare(points: number, instances: number): number {
  return Math.max(1, Math.ceil(points / Math.max(1, Math.floor(instances))));
}

/** One fixed window: in memory, or in Redis with an in-memory share as insurance. */
function windowLimiter(prefix: string, points: number, duration: number, shared: SharedLimits | undefined): RLWrapperTimeouts | RateLimiterMemory {
  if (!shared) return new RateLimiterMemory({ keyPrefix: prefix, points, duration });
  const insuranceLimiter = new RateLimiterMemory({ keyPrefix: prefix, points: instanceShare(points, shared.instances), duration });
  const inRedis = new RateLimiterRedis({
    storeClient: shared.redis,
    // ioredis (the default client type): no useRedisPackage.
    keyPrefix: `${shared.keyPrefix ?? "rl"}:${prefix}`,
    points,
    duration,
    // Disconnected: straight to the insurance, instead of the request
    // waiting in ioredis's offline queue for a reconnection.
    rejectIfRedisNotReady: true,
  });
  // Connected but not answering (a stalled server or network): the
  // timeout sends the request to the insurance too; no request hangs.
  return new RLWrapperTimeouts({ limiter: inRedis, timeoutMs: REDIS_TIMEOUT_MS, insuranceLimiter });
}

function buildLimiter(prefix: string, rule: RateRule, shared: SharedLimits | undefined): Consumer {
  const main = windowLimiter(prefix, rule.points, rule.windowSeconds, shared);
  if (!rule.burstPoints) return main;
  const burst = windowLimiter(`${prefix}:burst`, rule.burstPoints, rule.burstWindowSeconds ?? rule.windowSeconds * 10, shared);
  return new BurstyRateLimiter(main, burst);
}

function buildAll<A extends string>(scope: string, rules: Record<A, RateRule | null>, shared: SharedLimits | undefined): Map<A, Consumer> {
  const built = new Map<A, Consumer>();
  for (const [action, rule] of Object.entries(rules) as [A, RateRule | null][]) {
    if (rule) built.set(action, buildLimiter(`${scope}:${action}`, rule, shared));
  }
  return built;
}

export class RequestLimiter {
  readonly limits: RateLimits;
  readonly trustProxy: boolean;
  private readonly perUser: Map<UserLimitedAction, Consumer>;
  private readonly perIp: Map<IpLimitedAction, Consumer>;
  private readonly perSocket: Map<SocketLimitedAction, Consumer>;

  constructor({ limits, trustProxy, shared }: RequestLimiterOptions) {
    this.limits = limits;
    this.trustProxy = trustProxy;
    this.perUser = buildAll("user", limits.perUser, shared);
    this.perIp = buildAll("ip", limits.perIp, shared);
    // A connection lives on one instance, so its own memory counts it
    // exactly; a Redis round trip (and a share while Redis is down) would
    // only make it worse.
    this.perSocket = buildAll("socket", limits.perSocket, undefined);
  }

  /** Throws TOO_MANY_REQUESTS when the request's client address is over its limit. */
  async admitIp(action: IpLimitedAction, req: IncomingMessage): Promise<void> {
    await admit(this.perIp.get(action), clientIp(req, this.trustProxy), "too many requests from this address; try again later");
  }

  /** Throws TOO_MANY_REQUESTS when the user is over its limit. */
  async admitUser(action: UserLimitedAction, userId: string): Promise<void> {
    await admit(this.perUser.get(action), userId, "too many requests for this user; try again later");
  }

  /** Throws TOO_MANY_REQUESTS when one Socket.IO connection (by its id) is over its limit. */
  async admitSocket(action: SocketLimitedAction, socketId: string): Promise<void> {
    await admit(this.perSocket.get(action), socketId, "too many requests on this connection; try again later");
  }
}

async function admit(limiter: Consumer | undefined, key: string, message: string): Promise<void> {
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      throw new AppError("TOO_MANY_REQUESTS", message, { retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) });
    }
    throw rejection;
  }
}

/**
 * The key for a client's address: the socket's, or the proxy's last
 * X-Forwarded-For hop when trusted. IPv6 clients are keyed by their /64,
 * since one subscriber usually holds a whole /64 and could rotate through it.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  let address = req.socket.remoteAddress ?? "unknown";
  if (trustProxy) {
    const header = req.headers["x-forwarded-for"];
    const last = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").at(-1)?.trim();
    if (last && isIP(last)) address = last;
  }
  return isIP(address) === 6 ? ipv6Prefix(address) : address;
}

function ipv6Prefix(address: string): string {
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) return address.slice(7); // IPv4 seen through a dual-stack socket
  const [head = "", tail = ""] = (address.split("%")[0] ?? "").split("::");
  const left = head ? head.split(":") : [];
  const right = address.includes("::") && tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
