// What a failed Bot API call means for the outbox: wait, retry, send the
// message another way, or hold the queue. grammY throws GrammyError when
// Telegram answered with an error and HttpError when the request itself
// failed.
//
// The line that matters is between a refusal of *this message* and a
// refusal of *the chat*. A message Telegram will not take must not stop the
// messages behind it (it is sent another way, then set aside); a chat we
// cannot write to holds the queue, because every message behind would fail
// the same way and an operator's fix (re-adding the bot, a new
// GROUP_CHAT_ID) lets them all through in order.
//
// Telegram's error descriptions are not a documented enum; the texts below
// are the ones the Bot API answers today (core.telegram.org/bots/api,
// tdlib's error texts, and what bots meet in practice). Anything else
// Telegram refuses with a 400 is taken as about the message: a wrong guess
// there costs one message a detour (and it is kept), while a wrong guess the
// other way stops all support traffic.
import { GrammyError, HttpError } from "grammy";

export type SendFailure =
  /** 429: Telegram said how long to wait */
  | { kind: "rate_limited"; retryAfterSeconds: number; description: string }
  /** Telegram could not use a photo (unreachable URL, bad image, too big): send it as a link */
  | { kind: "photo_rejected"; description: string }
  /** Telegram will not take this message as it is (too long, entities, empty…): send it plainer */
  | { kind: "message_rejected"; description: string }
  /** network trouble or a Telegram 5xx: retry with backoff */
  | { kind: "transient"; description: string }
  /** the chat or the bot itself is refused (bot removed, chat not found, bad token): an operator must fix it */
  | { kind: "chat_refused"; description: string }
  /** (topic mode) the forum topic the post went to was deleted: make a new one and post there */
  | { kind: "topic_gone"; description: string }
  /** (topic mode) the forum topic is closed: reopen it, then post */
  | { kind: "topic_closed"; description: string };

/**
 * 400s about the forum topic a post was sent into. "message thread not
 * found" is what the Bot API answers for a deleted topic today; tdlib's
 * TOPIC_DELETED and TOPIC_ID_INVALID say the same. Only meaningful for a
 * call that named a topic: the caller checks that.
 */
const TOPIC_GONE = ["message thread not found", "topic_deleted", "topic_id_invalid"];
const TOPIC_CLOSED = "topic_closed";

/** 400s about a photo: the fix is to send the photo as a link. */
const PHOTO_PROBLEMS = [
  "wrong file identifier", // also "wrong file identifier/HTTP URL specified"
  "http url",
  "wrong type of the web page content",
  "failed to get http url content",
  "image_process_failed",
  "photo_invalid_dimensions",
  "photo_save_file_invalid",
  "photo_ext_invalid",
  "wrong remote file",
  "file must be non-empty",
  "file is too big",
  "can't parse inputmedia",
];

/**
 * 400s that are about the chat, not the message: "chat not found" (wrong
 * GROUP_CHAT_ID, or the group was deleted), "not enough rights to send …"
 * and "have no rights to send a message" (an admin restricted the bot),
 * "need administrator rights" / "CHAT_ADMIN_REQUIRED", "CHAT_WRITE_FORBIDDEN"
 * and "CHAT_RESTRICTED", "PEER_ID_INVALID" (an id Telegram does not know),
 * "chat_id is empty", and "group chat was upgraded to a supergroup chat"
 * (which also carries migrate_to_chat_id, handled on its own below).
 */
const CHAT_PROBLEMS = [
  "chat not found",
  "not enough rights",
  "have no rights",
  "need administrator rights",
  "chat_admin_required",
  "chat_write_forbidden",
  "chat_restricted",
  "peer_id_invalid",
  "chat_id is empty",
  "upgraded to a supergroup",
];

export class PhotoUnavailableError extends Error {}

export function classifySendError(error: unknown): SendFailure {
  if (error instanceof PhotoUnavailableError) return { kind: "photo_rejected", description: error.message };
  if (error instanceof GrammyError) {
    const code = error.error_code;
    const description = `${code} ${error.description}`;
    if (code === 429) return { kind: "rate_limited", retryAfterSeconds: error.parameters.retry_after ?? 5, description };
    if (code >= 500) return { kind: "transient", description };
    // A group upgraded to a supergroup gets a new id; Telegram says which.
    const movedTo = error.parameters.migrate_to_chat_id;
    if (movedTo !== undefined) return { kind: "chat_refused", description: `${description}; the group is now ${movedTo}: set GROUP_CHAT_ID=${movedTo}` };
    // 401 Unauthorized / 404 Not Found: the token is wrong or revoked.
    // 403: "bot was kicked from the supergroup chat", "bot is not a member of
    // the group chat", "bot can't initiate conversation", "bot was blocked".
    if (code === 401 || code === 403 || code === 404) return { kind: "chat_refused", description };
    const lower = error.description.toLowerCase();
    if (TOPIC_GONE.some((p) => lower.includes(p))) return { kind: "topic_gone", description };
    if (lower.includes(TOPIC_CLOSED)) return { kind: "topic_closed", description };
    if (CHAT_PROBLEMS.some((p) => lower.includes(p))) return { kind: "chat_refused", description };
    if (PHOTO_PROBLEMS.some((p) => lower.includes(p))) return { kind: "photo_rejected", description };
    // "message is too long", "can't parse entities", "message text is empty",
    // "text must be non-empty", "message caption is too long",
    // "ENTITIES_TOO_LONG", 413 Request Entity Too Large, and anything new.
    return { kind: "message_rejected", description };
  }
  if (error instanceof HttpError) return { kind: "transient", description: error.message };
  return { kind: "transient", description: error instanceof Error ? error.message : String(error) };
}
