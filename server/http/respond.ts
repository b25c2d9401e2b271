// Answers for the service's own HTTP routes: always JSON, errors always
// {"success": false, "error": "..."} with a 4xx for bad input (SPEC §2).
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAppError } from "../errors.js";
import type { Logger } from "../logger.js";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { success: false, error }, headers);
}

/** Turns anything thrown by a handler into an answer; internals stay in the log. */
export function sendFailure(res: ServerResponse, req: IncomingMessage, error: unknown, logger: Logger): void {
  if (isAppError(error)) {
    const headers: Record<string, string> = {};
    if (error.details.retryAfterSeconds !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(error.details.retryAfterSeconds)));
    sendError(res, error.httpStatus, error.message, headers);
    return;
  }
  logger.error({ err: error, method: req.method, url: req.url?.split("?")[0] }, "request failed");
  sendError(res, 500, "Внутренняя ошибка сервера; попробуйте ещё раз позже");
}
