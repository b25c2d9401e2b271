// Requests Node's HTTP parser refuses (a malformed request line, headers
// over the size limit, garbage after a body) never reach the router; Node
// answers them with a bare "400 Bad Request". This answers them in the
// API's JSON error shape instead (SPEC §2: errors are JSON, never 5xx).
// Wire it with `server.on("clientError", answerClientError)`.
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

const STATUS_OF_CODE: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, "the request headers are too large"],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "the chunk extensions are too large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "the request took too long to arrive"],
};

export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has nobody left to answer; a socket that already
  // carried a response cannot take another one.
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason] = STATUS_OF_CODE[error.code ?? ""] ?? [400, "the request is not valid HTTP"];
  const body = JSON.stringify({ success: false, error: reason });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
