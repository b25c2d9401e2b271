// The front door of the one HTTP server: routes the service answers itself
// (mobile REST, tRPC, Telegram) go through the Router, everything else to
// Next.js. It also counts requests in flight so shutdown can wait for them.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../logger.js";
import { sendError, sendFailure } from "./respond.js";
import type { Router } from "./router.js";

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface Dispatcher {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** resolves once no request is in flight */
  idle(): Promise<void>;
}

export function createDispatcher(router: Router, pages: RequestHandler | undefined, logger: Logger): Dispatcher {
  let inFlight = 0;
  let waiters: (() => void)[] = [];

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const pathname = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const match = router.match(req.method ?? "GET", pathname);
    if (match === "method") {
      req.resume();
      sendError(res, 405, `method ${req.method} is not allowed here`);
      return;
    }
    // API paths answer JSON even when nothing is there; only pages go to Next.
    const isApi = pathname === "/api" || pathname.startsWith("/api/");
    const handler: RequestHandler | null = match
      ? () => match.handler({ req, res, url: new URL(rawUrl, "http://localhost"), params: match.params })
      : isApi
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

  return {
    handle(req, res) {
      inFlight++;
      res.once("close", () => {
        inFlight--;
        if (inFlight === 0) {
          for (const wake of waiters) wake();
          waiters = [];
        }
      });
      void dispatch(req, res);
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
  };
}
