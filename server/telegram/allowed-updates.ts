// The update types the bot acts on, in one place: long polling asks for
// them, and the webhook registration CLI sends them as `allowed_updates`, so
// Telegram does not deliver (and we do not store dedupe rows for) updates
// nobody handles. Today that is only `message`: agents' replies in the
// support group and /start in private chats. Edits are deliberately left
// out (an edited reply is not re-delivered to the user). Add a type here
// when a feature starts handling it, e.g. "callback_query" for inline
// buttons with callback_data.
import type { Update } from "grammy/types";

export type UpdateType = Exclude<keyof Update, "update_id">;

export const ALLOWED_UPDATES = ["message"] as const satisfies readonly UpdateType[];
