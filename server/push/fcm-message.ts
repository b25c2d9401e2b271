// What one support message looks like on a phone: the FCM v1 message sent
// to each of the user's tokens. Pure, so the payload is tested without FCM.
import type { TokenMessage } from "firebase-admin/messaging";
import type { PushBadge } from "../ports.js";
import { toWire, type ChatMessage } from "../support/types.js";

export interface PushMessageOptions {
  /** Android notification channel the mobile app created; omitted when unset, so Android uses the app's default */
  androidChannelId?: string;
}

/**
 * Notification bodies longer than this are cut. iOS shows about four lines
 * on the lock screen and Android's expanded view not much more, and the whole
 * FCM message must stay under 4 KB; the app opens the chat for the full text.
 */
export const BODY_MAX_CHARACTERS = 200;

export const PUSH_TYPE = "support_message";

const segmenter = new Intl.Segmenter("ru", { granularity: "grapheme" });

/**
 * Shortens text to at most `max` user-perceived characters (graphemes), so an
 * emoji or a letter with a combining accent is never split in half, and
 * prefers to stop at a word boundary near the end.
 */
export function truncateText(text: string, max = BODY_MAX_CHARACTERS): string {
  const clean = text.trim();
  const graphemes = Array.from(segmenter.segment(clean), (s) => s.segment);
  if (graphemes.length <= max) return clean;
  let cut = graphemes.slice(0, max - 1).join("");
  const lastSpace = cut.search(/\s\S*$/);
  // only back off to the space when it costs a few characters, not half the text
  if (lastSpace > 0 && cut.length - lastSpace <= 20) cut = cut.slice(0, lastSpace);
  return `${cut.trimEnd()}…`;
}

export function notificationTitle(message: ChatMessage): string {
  return message.direction === "support" ? "Новый ответ поддержки" : "Поддержка";
}

export function notificationBody(message: ChatMessage): string {
  const text = message.text.trim();
  if (text !== "") return truncateText(text);
  const photos = message.photoUrls.length;
  return photos > 1 ? `📷 Фото (${photos})` : "📷 Фото";
}

/**
 * FCM data values must all be strings; the app routes on `type` and
 * `message_id`, and sets its in-app badge from `unread`.
 */
export function pushData(message: ChatMessage, badge?: PushBadge): Record<string, string> {
  const wire = toWire(message);
  const data: Record<string, string> = {
    type: PUSH_TYPE,
    message_id: String(wire.id),
    user_id: wire.user_id,
    direction: wire.direction,
    created_at: wire.created_at,
  };
  if (wire.photo_url !== null) data.photo_url = wire.photo_url;
  if (badge) data.unread = String(badge.unread);
  return data;
}

/** One FCM message per token: sendEach reports each token's fate apart. */
export function buildPushMessages(message: ChatMessage, tokens: readonly string[], options: PushMessageOptions = {}, badge?: PushBadge): TokenMessage[] {
  const notification = { title: notificationTitle(message), body: notificationBody(message) };
  const data = pushData(message, badge);
  return tokens.map((token) => ({
    token,
    notification,
    data,
    android: {
      // "high" wakes a dozing phone, which a chat reply warrants.
      priority: "high",
      notification: {
        sound: "default",
        ...(options.androidChannelId ? { channelId: options.androidChannelId } : {}),
      },
    },
    apns: {
      // 10 = deliver immediately; "alert" is required for visible pushes on iOS 13+.
      headers: { "apns-priority": "10", "apns-push-type": "alert" },
      // badge: the number iOS shows on the app icon; the app resets it as the user reads (mark_read).
      payload: { aps: { sound: "default", ...(badge ? { badge: badge.unread } : {}) } },
    },
  }));
}
