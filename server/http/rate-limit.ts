// Inbound rate limits for the mobile REST API (issue 4, "abuse resistance"):
// per client IP, checked before a request's body is read, and per user_id,
// checked as soon as the user is known and before anything is stored.
// In-memory counters (rate-limiter-flexible): the service is one process.
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "../errors.js";

/** What a limit counts: sending messages, reading history/devices, registering devices, fetching photos. */
export type LimitedAction = "send" | "read" | "register" | "uploads";
export type UserLimitedAction = Exclude<LimitedAction, "uploads">;

export interface RateRule {
  /** requests allowed per window */
  points: number;
  windowSeconds: number;
  /** extra requests allowed once the window's are spent, refilled over `burstWindowSeconds` */
  burstPoints?: number;
  burstWindowSeconds?: number;
}

export interface RateLimits {
  perUser: Record<UserLimitedAction, RateRule>;
  perIp: Record<LimitedAction, RateRule>;
  /**
   * Take the client's address from X-Forwarded-For (its last hop) instead of
   * the socket: only behind a reverse proxy that sets it, since anyone can
   * send the header.
   */
  trustProxy: boolean;
}

export interface RateLimitOverrides {
  perUser?: Partial<Record<UserLimitedAction, RateRule>>;
  perIp?: Partial<Record<LimitedAction, RateRule>>;
  trustProxy?: boolean;
}

// A person typing in a support chat sends a few messages a minute; 30 a
// minute plus a burst of 10 (refilled over 10 minutes) covers fast typists,
// photo series and the app's retries. An IP gets ten users' worth, because
// carriers put many phones behind one NAT address. History is read on every
// screen open and by polling, so reads are generous; photos are fetched in
// bulk when a long history with albums is opened (and cached afterwards).
export const DEFAULT_RATE_LIMITS: RateLimits = {
  perUser: {
    send: { points: 30, windowSeconds: 60, burstPoints: 10, burstWindowSeconds: 600 },
    read: { points: 120, windowSeconds: 60 },
    register: { points: 20, windowSeconds: 60 },
  },
  perIp: {
    send: { points: 300, windowSeconds: 60 },
    read: { points: 1200, windowSeconds: 60 },
    register: { points: 200, windowSeconds: 60 },
    uploads: { points: 1200, windowSeconds: 60 },
  },
  trustProxy: false,
};

interface Consumer {
  consume(key: string): Promise<RateLimiterRes>;
}

function buildLimiter(prefix: string, rule: RateRule): Consumer {
  const main = new RateLimiterMemory({ keyPrefix: prefix, points: rule.points, duration: rule.windowSeconds });
  if (!rule.burstPoints) return main;
  const burst = new RateLimiterMemory({ keyPrefix: `${prefix}:burst`, points: rule.burstPoints, duration: rule.burstWindowSeconds ?? rule.windowSeconds * 10 });
  return new BurstyRateLimiter(main, burst);
}

export class RequestLimiter {
  readonly limits: RateLimits;
  private readonly perUser: Map<UserLimitedAction, Consumer>;
  private readonly perIp: Map<LimitedAction, Consumer>;

  constructor(overrides: RateLimitOverrides = {}) {
    this.limits = {
      perUser: { ...DEFAULT_RATE_LIMITS.perUser, ...overrides.perUser },
      perIp: { ...DEFAULT_RATE_LIMITS.perIp, ...overrides.perIp },
      trustProxy: overrides.trustProxy ?? DEFAULT_RATE_LIMITS.trustProxy,
    };
    this.perUser = new Map(Object.entries(this.limits.perUser).map(([action, rule]) => [action as UserLimitedAction, buildLimiter(`user:${action}`, rule)]));
    this.perIp = new Map(Object.entries(this.limits.perIp).map(([action, rule]) => [action as LimitedAction, buildLimiter(`ip:${action}`, rule)]));
  }

  /** Throws TOO_MANY_REQUESTS when the request's client address is over its limit. */
  async admitIp(action: LimitedAction, req: IncomingMessage): Promise<void> {
    await admit(this.perIp.get(action), clientIp(req, this.limits.trustProxy), "too many requests from this address; try again later");
  }

  /** Throws TOO_MANY_REQUESTS when the user is over its limit. */
  async admitUser(action: UserLimitedAction, userId: string): Promise<void> {
    await admit(this.perUser.get(action), userId, "too many requests for this user; try again later");
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
