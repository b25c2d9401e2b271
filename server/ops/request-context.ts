// The request a piece of work belongs to, carried through every await by
// AsyncLocalStorage, so a log line written deep inside a handler names the
// request without each function passing an id along. The logger's mixin
// reads it (server/logger.ts).
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

export interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

// A proxy's or client's id is kept so one request can be followed across
// hops; anything else (too long, spaces, quotes, control characters) could
// forge log lines or bloat them, and is replaced.
const WELL_FORMED_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The incoming `X-Request-Id` when it is well-formed, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers["x-request-id"];
  return typeof incoming === "string" && WELL_FORMED_ID.test(incoming) ? incoming : randomUUID();
}
