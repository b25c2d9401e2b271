// multipart/form-data for /send_message, streamed with busboy: every limit
// (number of photos, bytes per photo, field sizes) is enforced while the
// body is read, photos go to temporary files, nothing is buffered whole.
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import { AppError, badRequest } from "../errors.js";
import { MAX_PHOTO_BYTES, type PendingUpload, type UploadStore } from "../storage/uploads.js";
import { formatBytes } from "./body.js";

export const MAX_PHOTOS = 10;
const PHOTO_FIELDS = new Set(["photo", "photo[]", "photos", "photos[]"]);
const MAX_FIELD_BYTES = 256 * 1024;

export interface MultipartForm {
  fields: Map<string, string>;
  photos: PendingUpload[];
}

export interface MultipartOptions {
  /**
   * Runs before each photo's bytes are received, with the fields read so far
   * (forms put user_id before the photos): a rejection refuses the form, and
   * the photos are drained, never written to disk.
   */
  beforeFile?: (fields: ReadonlyMap<string, string>) => Promise<void>;
}

export function readMultipart(req: IncomingMessage, uploads: UploadStore, options: MultipartOptions = {}): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // fileSize one over the limit: busboy flags a file that reaches its limit, and exactly 10 MB is allowed.
        limits: { files: MAX_PHOTOS, fileSize: MAX_PHOTO_BYTES + 1, fields: 50, fieldSize: MAX_FIELD_BYTES, parts: 100 },
      });
    } catch (error) {
      reject(badRequest(`the multipart request is malformed: ${(error as Error).message}`));
      return;
    }
    const fields = new Map<string, string>();
    const receiving: Promise<PendingUpload>[] = [];
    let failure: AppError | null = null;
    const fail = (error: AppError) => {
      failure ??= error;
    };

    parser.on("field", (name, value, info) => {
      if (info.valueTruncated) fail(badRequest(`field ${name} is longer than ${formatBytes(MAX_FIELD_BYTES)}`));
      else if (!fields.has(name)) fields.set(name, value);
    });
    parser.on("file", (name, stream, info) => {
      // A destroyed form destroys its current file stream with an error: it is
      // reported through the form (and through receive's pipeline), not here.
      stream.on("error", () => undefined);
      if (!PHOTO_FIELDS.has(name) || failure) {
        stream.resume();
        return;
      }
      let truncated = false;
      stream.once("limit", () => {
        truncated = true;
      });
      const admitted = Promise.resolve().then(() => options.beforeFile?.(fields));
      const pending = admitted.then(
        () => uploads.receive(stream, info.filename ?? "", () => truncated),
        (error: unknown) => {
          stream.resume();
          throw error;
        },
      );
      pending.catch((error: unknown) => fail(error instanceof AppError ? error : badRequest(`photo "${info.filename}" could not be read`)));
      receiving.push(pending);
    });
    parser.on("filesLimit", () => fail(badRequest(`at most ${MAX_PHOTOS} photos can be sent in one message`)));
    parser.on("fieldsLimit", () => fail(badRequest("the form has too many fields")));
    parser.on("partsLimit", () => fail(badRequest("the form has too many parts")));
    parser.on("error", (error: Error) => {
      fail(badRequest(`the multipart body is malformed: ${error.message}`));
      void settle();
    });
    parser.on("close", () => void settle());
    // A client that goes away mid-body never ends the pipe, so busboy would
    // wait forever with photos half-written: stop it, and clean up in settle().
    const aborted = () => {
      if (settled) return;
      fail(badRequest("the request was aborted"));
      req.unpipe(parser);
      parser.destroy();
      void settle();
    };
    req.once("aborted", aborted);
    req.once("close", () => {
      if (!req.complete) aborted();
    });

    let settled = false;
    async function settle() {
      if (settled) return;
      settled = true;
      const results = await Promise.allSettled(receiving);
      const photos = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      if (failure) {
        await uploads.discard(photos);
        req.unpipe(parser);
        req.resume();
        reject(failure);
        return;
      }
      resolve({ fields, photos });
    }
    req.pipe(parser);
  });
}
