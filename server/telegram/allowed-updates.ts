// The update types the bot acts on, in one place: long polling asks for
// them, and the webhook registration CLI sends them as `allowed_updates`, so
// Telegram does not deliver (and we do not store dedupe rows for) updates
// nobody handles. Today: `message` (agents' replies and commands in the
// support group, /start in private chats) and `edited_message` (an agent's
// edit of a delivered reply changes it in the app; no second push). Add a
// type here when a feature starts handling it, e.g. "callback_query" for
// inline buttons with callback_data.
import type { Update } from "grammy/types";

export type UpdateType = Exclude<keyof Update, "update_id">;

export const ALLOWED_UPDATES = ["message", "edited_message"] as const satisfies readonly UpdateType[];
