// The small interfaces through which services reach the outside world. The
// composition root (server/app.ts) plugs in the real adapters; nothing in a
// service knows whether it talks to Telegram, a stand-in, or nobody.
import type { ChatMessage } from "./support/types.js";

/** Live delivery to connected apps (Socket.IO). */
export interface RealtimePort {
  emitToUser(message: ChatMessage): void;
}

export interface PushOutcome {
  /** tokens FCM accepted */
  delivered: number;
  /** tokens FCM rejected as unregistered or invalid: the caller deletes them */
  invalid: string[];
  /** tokens that failed for a reason worth retrying */
  retry: string[];
}

/** Push notifications to a user's phones (FCM). */
export interface PushPort {
  readonly enabled: boolean;
  /** Sends one support message to the given tokens of its user. */
  send(message: ChatMessage, tokens: readonly string[]): Promise<PushOutcome>;
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
