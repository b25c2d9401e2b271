// User identity (SPEC §2): with USER_HASH_SECRET set, a request that names a
// user must prove it with user_hash = hex HMAC-SHA256(secret, user_id), which
// the app's own backend computes for the user it has signed in (as in
// Chatwoot's identity validation). Without the secret user ids are taken on
// trust, as the seed did. One check for every edge that names a user: the
// REST routes and the socket's events.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { unauthorized } from "../errors.js";

export interface UserIdentity {
  /** true when USER_HASH_SECRET is set and user_hash is required */
  readonly enforced: boolean;
  /** Throws UNAUTHORIZED unless `hash` proves `userId`; does nothing without a secret. */
  verify(userId: string, hash: string | null | undefined): void;
  /** verify() with the hash the request carries (see requestUserHash); `field` is the body's user_hash. */
  verifyRequest(request: { req: IncomingMessage; url: URL }, userId: string, field?: string | null): void;
}

export const USER_HASH_HEADER = "x-user-hash";

const MISSING = "user_hash is required: send the HMAC-SHA256 of user_id (hex, computed by your backend with USER_HASH_SECRET) as user_hash or the X-User-Hash header";
const WRONG = "user_hash does not match user_id";
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** The hash the app's backend computes: lowercase hex HMAC-SHA256 of the user_id string. */
export function computeUserHash(secret: string, userId: string): string {
  return createHmac("sha256", secret).update(userId, "utf8").digest("hex");
}

export function createUserIdentity(secret: string | undefined): UserIdentity {
  if (!secret) return { enforced: false, verify: () => undefined, verifyRequest: () => undefined };
  const verify = (userId: string, hash: string | null | undefined): void => {
    const candidate = hash?.trim();
    if (!candidate) throw unauthorized(MISSING);
    // The shape check depends on nothing secret; the digests are then
    // compared in constant time, so a matching prefix of the right hash
    // does not show in the answer's timing.
    if (!HEX_SHA256.test(candidate)) throw unauthorized(WRONG);
    const expected = createHmac("sha256", secret).update(userId, "utf8").digest();
    if (!timingSafeEqual(expected, Buffer.from(candidate, "hex"))) throw unauthorized(WRONG);
  };
  return {
    enforced: true,
    verify,
    verifyRequest: ({ req, url }, userId, field) => verify(userId, requestUserHash(req, url, field)),
  };
}

/**
 * The user_hash an HTTP request carries: the body's field when it has one,
 * else `?user_hash=`, else the X-User-Hash header.
 */
export function requestUserHash(req: IncomingMessage, url: URL, field?: string | null): string | undefined {
  if (typeof field === "string" && field.trim() !== "") return field;
  const query = url.searchParams.get("user_hash");
  if (query !== null && query.trim() !== "") return query;
  const header = req.headers[USER_HASH_HEADER];
  return (Array.isArray(header) ? header[0] : header) ?? undefined;
}
