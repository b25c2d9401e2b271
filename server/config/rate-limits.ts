// The inbound rate limits (SPEC §2): what each one counts, its default, and
// the environment variable an operator sets it with ("points/seconds" or
// "off"). Plain data, read by server/config/env.ts and enforced by
// server/http/rate-limit.ts.

/** Per client address: sending, reading history/devices, registering devices, photos, the Mini App API, socket joins. */
export type IpLimitedAction = "send" | "read" | "register" | "uploads" | "diary" | "join";
/** Per user: a mobile user_id, or the Telegram user of the Mini App API ("diary"). */
export type UserLimitedAction = "send" | "read" | "register" | "diary";
/** Per Socket.IO connection. */
export type SocketLimitedAction = "join";

export interface RateRule {
  /** requests allowed per window */
  points: number;
  windowSeconds: number;
  /** extra requests allowed once the window's are spent, refilled over `burstWindowSeconds` */
  burstPoints?: number;
  burstWindowSeconds?: number;
}

/** Every limit; null is a limit turned off. */
export interface RateLimits {
  perUser: Record<UserLimitedAction, RateRule | null>;
  perIp: Record<IpLimitedAction, RateRule | null>;
  perSocket: Record<SocketLimitedAction, RateRule | null>;
}

// A person typing in a support chat sends a few messages a minute; 30 a
// minute plus a burst of 10 (refilled over 10 minutes) covers fast typists,
// photo series and the app's retries. An address gets ten users' worth,
// because carriers put many phones behind one NAT address. History is read
// on every screen open and by polling, so reads are generous; photos are
// fetched in bulk when a long history with albums is opened (and cached
// afterwards). The Mini App makes a few calls per screen and per save. A
// socket joins its user once per connection (and again after a reconnect);
// many joins on one socket are someone walking through user ids.
export const DEFAULT_RATE_LIMITS: RateLimits = {
  perUser: {
    send: { points: 30, windowSeconds: 60, burstPoints: 10, burstWindowSeconds: 600 },
    read: { points: 120, windowSeconds: 60 },
    register: { points: 20, windowSeconds: 60 },
    diary: { points: 300, windowSeconds: 60 },
  },
  perIp: {
    send: { points: 300, windowSeconds: 60 },
    read: { points: 1200, windowSeconds: 60 },
    register: { points: 200, windowSeconds: 60 },
    uploads: { points: 1200, windowSeconds: 60 },
    diary: { points: 1200, windowSeconds: 60 },
    join: { points: 600, windowSeconds: 60 },
  },
  perSocket: {
    join: { points: 30, windowSeconds: 60 },
  },
};

export const NO_RATE_LIMITS: RateLimits = {
  perUser: { send: null, read: null, register: null, diary: null },
  perIp: { send: null, read: null, register: null, uploads: null, diary: null, join: null },
  perSocket: { join: null },
};

type LimitTarget =
  | { scope: "perUser"; action: UserLimitedAction; part?: "burst" }
  | { scope: "perIp"; action: IpLimitedAction }
  | { scope: "perSocket"; action: SocketLimitedAction };

/** The variable for each limit, in the order the README lists them. */
export const RATE_LIMIT_VARIABLES: readonly (LimitTarget & { name: string })[] = [
  { name: "RATE_LIMIT_SEND_PER_USER", scope: "perUser", action: "send" },
  { name: "RATE_LIMIT_SEND_BURST_PER_USER", scope: "perUser", action: "send", part: "burst" },
  { name: "RATE_LIMIT_READ_PER_USER", scope: "perUser", action: "read" },
  { name: "RATE_LIMIT_REGISTER_PER_USER", scope: "perUser", action: "register" },
  { name: "RATE_LIMIT_DIARY_PER_USER", scope: "perUser", action: "diary" },
  { name: "RATE_LIMIT_SEND_PER_IP", scope: "perIp", action: "send" },
  { name: "RATE_LIMIT_READ_PER_IP", scope: "perIp", action: "read" },
  { name: "RATE_LIMIT_REGISTER_PER_IP", scope: "perIp", action: "register" },
  { name: "RATE_LIMIT_UPLOADS_PER_IP", scope: "perIp", action: "uploads" },
  { name: "RATE_LIMIT_DIARY_PER_IP", scope: "perIp", action: "diary" },
  { name: "RATE_LIMIT_JOIN_PER_IP", scope: "perIp", action: "join" },
  { name: "RATE_LIMIT_JOIN_PER_SOCKET", scope: "perSocket", action: "join" },
];

export const RATE_RULE_FORMAT = "must be points/seconds such as 30/60 (30 requests a minute), or off";

/** "30/60" → 30 per 60 seconds; "off" → null; anything else → undefined. */
export function parseRateRule(text: string): { points: number; windowSeconds: number } | null | undefined {
  const value = text.trim().toLowerCase();
  if (value === "off") return null;
  const match = /^(\d{1,9})\s*\/\s*(\d{1,7})$/.exec(value);
  if (!match) return undefined;
  const points = Number(match[1]);
  const windowSeconds = Number(match[2]);
  return points >= 1 && windowSeconds >= 1 ? { points, windowSeconds } : undefined;
}

/** The defaults with one variable's value applied (`rule` as parseRateRule returned it). */
export function applyRateRule(limits: RateLimits, target: LimitTarget, rule: { points: number; windowSeconds: number } | null): RateLimits {
  if (target.scope === "perUser" && target.part === "burst") {
    const main = limits.perUser[target.action];
    if (!main) return limits; // the burst extends a limit that is off: nothing to extend
    const window = { points: main.points, windowSeconds: main.windowSeconds };
    const next = rule ? { ...window, burstPoints: rule.points, burstWindowSeconds: rule.windowSeconds } : window;
    return { ...limits, perUser: { ...limits.perUser, [target.action]: next } };
  }
  if (target.scope === "perUser") {
    // A new main window keeps the burst that rides on it.
    const current = limits.perUser[target.action];
    const next = rule && current?.burstPoints ? { ...rule, burstPoints: current.burstPoints, burstWindowSeconds: current.burstWindowSeconds } : rule;
    return { ...limits, perUser: { ...limits.perUser, [target.action]: next } };
  }
  if (target.scope === "perIp") return { ...limits, perIp: { ...limits.perIp, [target.action]: rule } };
  return { ...limits, perSocket: { ...limits.perSocket, [target.action]: rule } };
}
