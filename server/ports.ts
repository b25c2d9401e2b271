// The small interfaces through which services reach the outside world. The
// composition root (server/app.ts) plugs in the real adapters; nothing in a
// service knows whether it talks to Telegram, a stand-in, or nobody.
import type { ChatMessage } from "./support/types.js";

/** Live delivery to connected apps (Socket.IO). */
export interface RealtimePort {
  emitToUser(message: ChatMessage): void;
  /** `message_updated`: a message's text changed (an agent's edit) */
  emitUpdated(message: ChatMessage): void;
  /** `message_deleted`: a message left the user's history */
  emitDeleted(userId: string, messageId: number): void;
  /** `read`: the user read up to a message on some device; the others clear their badges */
  emitRead(state: ReadState): void;
}

/** What the app knows after a mark_read (SPEC §7). */
export interface ReadState {
  userId: string;
  upToId: number;
  unread: number;
}

export interface PushOutcome {
  /** tokens FCM accepted */
  delivered: number;
  /** tokens FCM rejected as unregistered or invalid: the caller deletes them */
  invalid: string[];
  /** tokens that failed for a reason worth retrying */
  retry: string[];
}

/** The user's unread count as of the push: its data carries it, iOS shows it on the icon. */
export interface PushBadge {
  unread: number;
}

/** Push notifications to a user's phones (FCM). */
export interface PushPort {
  readonly enabled: boolean;
  /** Sends one support message to the given tokens of its user. */
  send(message: ChatMessage, tokens: readonly string[], badge?: PushBadge): Promise<PushOutcome>;
}

/** One photo of a user's message as the group poster needs it. */
export interface OutgoingPhoto {
  /** where the mobile app sees it, e.g. "/uploads/ab12….jpg" or an external URL */
  url: string;
  /** set for photos this service stored: the file uploaded to Telegram (the stored photo, or a copy of it within sendPhoto's limits) */
  localPath?: string;
}

/** What goes into the support group for one user message. */
export interface GroupPost {
  messageId: number;
  userId: string;
  userName: string | null;
  text: string;
  photos: OutgoingPhoto[];
}
