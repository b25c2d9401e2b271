// Inbound rate limits (SPEC §2): per client address, checked before a
// request's body is read; per user, checked as soon as the user is known
// (and proven, with USER_HASH_SECRET) and before anything is stored; per
// socket for Socket.IO joins. What the limits are, and how an operator sets
// them, is server/config/rate-limits.ts. In-memory counters
// (rate-limiter-flexible): the service is one process.
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
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
}

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

function buildLimiter(prefix: string, rule: RateRule): Consumer {
  const main = new RateLimiterMemory({ keyPrefix: prefix, points: rule.points, duration: rule.windowSeconds });
  if (!rule.burstPoints) return main;
  const burst = new RateLimiterMemory({ keyPrefix: `${prefix}:burst`, points: rule.burstPoints, duration: rule.burstWindowSeconds ?? rule.windowSeconds * 10 });
  return new BurstyRateLimiter(main, burst);
}

function buildAll<A extends string>(scope: string, rules: Record<A, RateRule | null>): Map<A, Consumer> {
  const built = new Map<A, Consumer>();
  for (const [action, rule] of Object.entries(rules) as [A, RateRule | null][]) {
    if (rule) built.set(action, buildLimiter(`${scope}:${action}`, rule));
  }
  return built;
}

export class RequestLimiter {
  readonly limits: RateLimits;
  readonly trustProxy: boolean;
  private readonly perUser: Map<UserLimitedAction, Consumer>;
  private readonly perIp: Map<IpLimitedAction, Consumer>;
  private readonly perSocket: Map<SocketLimitedAction, Consumer>;

  constructor({ limits, trustProxy }: RequestLimiterOptions) {
    this.limits = limits;
    this.trustProxy = trustProxy;
    this.perUser = buildAll("user", limits.perUser);
    this.perIp = buildAll("ip", limits.perIp);
    this.perSocket = buildAll("socket", limits.perSocket);
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
