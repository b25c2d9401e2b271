// Mounts the tRPC API on the custom server's Router at /api/trpc/<path>.
//
// The service reads the body itself and hands tRPC's core (resolveResponse)
// a fetch Request, instead of using the node-http adapter: that adapter's
// JSON handler reads every POST with Request.json(), which throws on an
// empty body, and an empty body is exactly how a mutation without input
// arrives (`httpLink` sends it with content-type: application/json, other
// clients without one; SPEC §5). The answer was a 400 parse error before
// authentication had even run.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { TRPCError } from "@trpc/server";
import { resolveResponse } from "@trpc/server/http";
import type { DiaryCredentials } from "../diary/auth.js";
import { initDataFromAuthorization } from "../diary/auth.js";
import { isAppError } from "../errors.js";
import { readBody } from "../http/body.js";
import type { RequestLimiter } from "../http/rate-limit.js";
import type { RouteHandler, Router } from "../http/router.js";
import { appRouter } from "./root.js";
import { trpcRequestLimits } from "./trpc-rate-limit.js";
import { createContextInner, type DiaryApiDeps } from "./trpc.js";

export const TRPC_ENDPOINT = "/api/trpc";

/** Notes are at most 4000 characters; a batch of a few of them fits easily. */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_BATCH_SIZE = 20;

/**
 * A request whose body the service has already read. An empty body means
 * "no input", as a GET without `?input=` does; Request.json() alone would
 * throw on it.
 */
class ReadRequest extends Request {
  constructor(
    url: URL,
    init: RequestInit,
    private readonly raw: Buffer,
  ) {
    super(url, { ...init, body: raw.length > 0 ? new Uint8Array(raw) : undefined });
  }

  override async json(): Promise<unknown> {
    return this.raw.length === 0 ? undefined : (JSON.parse(this.raw.toString("utf8")) as unknown);
  }
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

/** The fetch Request for tRPC, or the refusal to answer instead (body too large or cut off). */
async function toFetchRequest(req: IncomingMessage, url: URL, signal: AbortSignal): Promise<{ request: Request; error: TRPCError | null }> {
  const headers = headersOf(req);
  const init: RequestInit = { method: req.method, headers, signal };
  if (req.method === "GET" || req.method === "HEAD") return { request: new Request(url, init), error: null };
  let raw: Buffer;
  try {
    raw = await readBody(req, MAX_BODY_BYTES);
  } catch (cause) {
    const error = isAppError(cause) ? new TRPCError({ code: cause.trpcCode, message: cause.message }) : new TRPCError({ code: "BAD_REQUEST", cause });
    return { request: new ReadRequest(url, init, Buffer.alloc(0)), error };
  }
  // Without a body there is nothing to type: it is JSON's "no input".
  if (raw.length === 0 && !headers.has("content-type")) headers.set("content-type", "application/json");
  return { request: new ReadRequest(url, init, raw), error: null };
}

/** A request refused before its body was read: the body is drained, tRPC answers every call with `error`. */
function refusedRequest(req: IncomingMessage, url: URL, signal: AbortSignal, error: TRPCError): { request: Request; error: TRPCError } {
  req.resume();
  const headers = headersOf(req);
  headers.set("content-type", "application/json");
  return { request: new Request(url, { method: req.method, headers, signal }), error };
}

async function writeFetchResponse(res: ServerResponse, response: Response, signal: AbortSignal): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  if (!response.body) {
    res.end();
    return;
  }
  // httpBatchStreamLink answers arrive as a stream: pass it on as it comes.
  try {
    await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), res);
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The credentials a request carries: `Authorization: tma …` and `X-Session-Token`. */
export function credentialsFromRequest(req: IncomingMessage): DiaryCredentials {
  const credentials: DiaryCredentials = {};
  const initData = initDataFromAuthorization(header(req, "authorization"));
  if (initData !== undefined) credentials.initData = initData;
  const token = header(req, "x-session-token")?.trim();
  if (token) credentials.sessionToken = token;
  return credentials;
}

/** `limiter`: the inbound limits ("diary" per address and per user); none: unlimited. */
export function registerTrpcRoutes(router: Router, deps: DiaryApiDeps, limiter?: RequestLimiter): void {
  const handler: RouteHandler = async ({ req, res, url, params }) => {
    // The client went away: stop the procedures' work and the stream.
    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const limits = trpcRequestLimits(limiter);
    // The address's limit comes before the body is read; a refused request's body is never read.
    const refused = await limits.admitAddress(req);
    const { request, error } = refused ? refusedRequest(req, url, abort.signal, refused) : await toFetchRequest(req, url, abort.signal);
    const response = await resolveResponse({
      responseMeta: limits.responseMeta,
      router: appRouter,
      req: request,
      path: params.path ?? "",
      error,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext: () => Promise.resolve(limits.limitContext(createContextInner({ ...deps, credentials: credentialsFromRequest(req) }))),
      onError: ({ error: failure, path }) => {
        // Client mistakes are answered and forgotten; faults are logged in full.
        if (failure.code === "INTERNAL_SERVER_ERROR") {
          deps.logger.error({ err: failure.cause ?? failure, path }, "tRPC procedure failed");
        }
      },
    });
    await writeFetchResponse(res, response, abort.signal);
  };
  router.on("GET", `${TRPC_ENDPOINT}/:path`, handler);
  router.on("POST", `${TRPC_ENDPOINT}/:path`, handler);
}
