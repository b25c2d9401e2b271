// Request bodies read with their size limit enforced while reading: a client
// that sends more than allowed is cut off at the limit, not buffered first.
import type { IncomingMessage } from "node:http";
import { AppError, badRequest } from "../errors.js";

export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: Error | null) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      if (error) {
        req.resume();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        finish(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => finish(null));
    req.once("error", (error) => finish(badRequest(`the request body could not be read: ${error.message}`)));
    req.once("aborted", () => finish(badRequest("the request was aborted")));
  });
}

export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const raw = await readBody(req, limitBytes);
  if (raw.length === 0) throw badRequest("the request body is empty; send a JSON object");
  try {
    return JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    throw badRequest("the request body is not valid JSON");
  }
}

export function tooLarge(limitBytes: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `the request body is larger than ${formatBytes(limitBytes)}`);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/** Media type of the request without parameters, lower-cased. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
