// What a failed Bot API call means for the outbox: wait, retry, or send the
// message another way. grammY throws GrammyError when Telegram answered with
// an error and HttpError when the request itself failed.
import { GrammyError, HttpError } from "grammy";

export type SendFailure =
  /** 429: Telegram said how long to wait */
  | { kind: "rate_limited"; retryAfterSeconds: number; description: string }
  /** Telegram could not use a photo (unreachable URL, bad image): send it as a link */
  | { kind: "photo_rejected"; description: string }
  /** network trouble or a Telegram 5xx: retry with backoff */
  | { kind: "transient"; description: string }
  /** refused for a reason an operator must fix (chat not found, bot removed, bad token) */
  | { kind: "refused"; description: string };

const PHOTO_PROBLEMS = [
  "wrong file identifier",
  "http url",
  "wrong type of the web page content",
  "failed to get http url content",
  "image_process_failed",
  "photo_invalid_dimensions",
  "photo_save_file_invalid",
  "wrong remote file",
  "file must be non-empty",
  "photo_ext_invalid",
];

export class PhotoUnavailableError extends Error {}

export function classifySendError(error: unknown): SendFailure {
  if (error instanceof PhotoUnavailableError) return { kind: "photo_rejected", description: error.message };
  if (error instanceof GrammyError) {
    const description = `${error.error_code} ${error.description}`;
    if (error.error_code === 429) {
      return { kind: "rate_limited", retryAfterSeconds: error.parameters.retry_after ?? 5, description };
    }
    if (error.error_code >= 500) return { kind: "transient", description };
    const lower = error.description.toLowerCase();
    if (error.error_code === 400 && PHOTO_PROBLEMS.some((p) => lower.includes(p))) return { kind: "photo_rejected", description };
    // A group upgraded to a supergroup gets a new id; Telegram says which.
    const movedTo = error.parameters.migrate_to_chat_id;
    if (movedTo !== undefined) return { kind: "refused", description: `${description}; the group is now ${movedTo}: set GROUP_CHAT_ID=${movedTo}` };
    return { kind: "refused", description };
  }
  if (error instanceof HttpError) return { kind: "transient", description: error.message };
  return { kind: "transient", description: error instanceof Error ? error.message : String(error) };
}
