// Mounts the tRPC API on the custom server's Router at /api/trpc/<path>.
//
// Node adapter (nodeHTTPRequestHandler) rather than the fetch adapter: the
// custom server already holds node's IncomingMessage/ServerResponse, and the
// node adapter does the node → fetch bridging (body limit, streaming the
// response) itself, which a hand-written bridge would only repeat.
import type { IncomingMessage } from "node:http";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import type { DiaryCredentials } from "../diary/auth.js";
import { initDataFromAuthorization } from "../diary/auth.js";
import type { RequestLimiter } from "../http/rate-limit.js";
import type { RouteHandler, Router } from "../http/router.js";
import { appRouter } from "./root.js";
import { trpcRequestLimits } from "./trpc-rate-limit.js";
import { createContextInner, type DiaryApiDeps } from "./trpc.js";

export const TRPC_ENDPOINT = "/api/trpc";

/** Notes are at most 4000 characters; a batch of a few of them fits easily. */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_BATCH_SIZE = 20;

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
  const handler: RouteHandler = async ({ req, res, params }) => {
    const limits = trpcRequestLimits(limiter);
    await nodeHTTPRequestHandler({
      // The adapter's hook runs before the body is read; next(error) fails every call.
      middleware: (_req, _res, next) => void limits.admitAddress(req).then((refused) => next(refused ?? undefined), next),
      responseMeta: limits.responseMeta,
      router: appRouter,
      req,
      res,
      path: params.path ?? "",
      maxBodySize: MAX_BODY_BYTES,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext: () => limits.limitContext(createContextInner({ ...deps, credentials: credentialsFromRequest(req) })),
      onError: ({ error, path }) => {
        // Client mistakes are answered and forgotten; faults are logged in full.
        if (error.code === "INTERNAL_SERVER_ERROR") {
          deps.logger.error({ err: error.cause ?? error, path }, "tRPC procedure failed");
        }
      },
    });
  };
  router.on("GET", `${TRPC_ENDPOINT}/:path`, handler);
  router.on("POST", `${TRPC_ENDPOINT}/:path`, handler);
}
