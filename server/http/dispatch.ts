// The front door of the one HTTP server: routes the service answers itself
// (mobile REST, tRPC, Telegram) go through the Router, everything else to
// Next.js. It also counts requests in flight so shutdown can wait for them,
// gives each request an id carried into every log line written for it, and
// writes one access-log line and one metrics observation per request.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../logger.js";
import { PAGES_ROUTE, UNMATCHED_ROUTE } from "../ops/metrics.js";
import { requestIdOf, runInRequest } from "../ops/request-context.js";
import { sendError, sendFailure } from "./respond.js";
import type { RouteMatch, Router } from "./router.js";

// API paths answer JSON even when nothing is there; only pages go to Next.
const isApi = (pathname: string) => pathname === "/api" || pathname.startsWith("/api/");

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface Dispatcher {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** resolves once no request is in flight */
  idle(): Promise<void>;
}

export interface DispatchOptions {
  /** told about every answered request: route is the Router's pattern, never the raw path */
  observe?: (method: string | undefined, route: string, status: number, seconds: number) => void;
  /**
   * Routes whose access lines go at debug: monitors poll them every few
   * seconds and would drown the lines an operator reads.
   */
  quietRoutes?: readonly string[];
}

export function createDispatcher(router: Router, pages: RequestHandler | undefined, logger: Logger, options: DispatchOptions = {}): Dispatcher {
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const quiet = new Set(options.quietRoutes ?? []);

  async function dispatch(req: IncomingMessage, res: ServerResponse, match: RouteMatch | "method" | null, pathname: string, rawUrl: string): Promise<void> {
    if (match === "method") {
      req.resume();
      sendError(res, 405, `method ${req.method} is not allowed here`);
      return;
    }
    const handler: RequestHandler | null = match
      ? () => match.handler({ req, res, url: new URL(rawUrl, "http://localhost"), params: match.params })
      : isApi(pathname)
        ? null
        : (pages ?? null);
    if (!handler) {
      req.resume();
      sendError(res, 404, `nothing at ${pathname}`);
      return;
    }
    try {
      await handler(req, res);
    } catch (error) {
      sendFailure(res, req, error, logger);
    }
  }

  /** A bounded label: the route's pattern, "next" for pages, "unmatched" for the rest. */
  function routeLabel(match: RouteMatch | "method" | null, pathname: string): string {
    if (match && match !== "method") return match.pattern;
    return match === null && pages && !isApi(pathname) ? PAGES_ROUTE : UNMATCHED_ROUTE;
  }

  function finished(): void {
    inFlight--;
    if (inFlight === 0) {
      for (const wake of waiters) wake();
      waiters = [];
    }
  }

  return {
    handle(req, res) {
      const rawUrl = req.url ?? "/";
      const started = process.hrtime.bigint();
      const queryAt = rawUrl.indexOf("?");
      const pathname = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
      const requestId = requestIdOf(req);
      res.setHeader("X-Request-Id", requestId);
      const match = router.match(req.method ?? "GET", pathname);
      const route = routeLabel(match, pathname);
      inFlight++;
      res.once("close", () => {
        finished();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        // A client that hung up before the answer was complete: nginx's convention.
        const status = res.writableFinished ? res.statusCode : 499;
        options.observe?.(req.method, route, status, seconds);
        // Only the pattern: the raw path can hold a user id, the query a key.
        const line = { requestId, method: req.method, route, status, durationMs: Math.round(seconds * 10_000) / 10 };
        if (quiet.has(route)) logger.debug(line, "request");
        else logger.info(line, "request");
      });
      runInRequest({ requestId }, () => void dispatch(req, res, match, pathname, rawUrl));
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
  };
}
