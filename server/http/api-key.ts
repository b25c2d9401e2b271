// API_KEY mode (SPEC §2, §3): the key is compared in constant time. Both
// sides are hashed first so the comparison does not leak the key's length.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export type KeyCheck = (candidate: string | undefined) => boolean;

export function createKeyCheck(key: string): KeyCheck {
  const expected = createHash("sha256").update(key).digest();
  return (candidate) => {
    if (candidate === undefined) return false;
    const actual = createHash("sha256").update(candidate).digest();
    return timingSafeEqual(expected, actual);
  };
}

/** The key a request carries: `X-API-Key: <key>` or `Authorization: Bearer <key>`. */
export function requestKey(req: IncomingMessage): string | undefined {
  const header = req.headers["x-api-key"];
  if (typeof header === "string") return header;
  const authorization = req.headers.authorization;
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization) : null;
  return match?.[1]?.trim();
}
