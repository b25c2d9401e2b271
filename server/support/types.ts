// The support bridge's vocabulary, shared by its services, edges and ports.

export type Direction = "user" | "support";

/** A message of a user's support chat as the service keeps it. */
export interface ChatMessage {
  id: number;
  userId: string;
  text: string;
  direction: Direction;
  photoUrls: string[];
  createdAt: Date;
  /** support messages: when the user read it in the app; null (or absent) while unread */
  readAt?: Date | null;
  /** support messages: when an agent last changed the text in the group */
  editedAt?: Date | null;
}

/**
 * The wire shape of a chat message: a `/message_history` item and the
 * payload of the `new_message` socket event (SPEC §2, §3).
 */
export interface ChatMessageWire {
  id: number;
  user_id: string;
  message: string;
  photo_url: string | null;
  photo_urls: string[];
  direction: Direction;
  /** UTC, "YYYY-MM-DD HH:MM:SS" */
  created_at: string;
  /**
   * Support messages only: whether the user has read it (SPEC §7). The
   * user's own messages leave it out: "read" is the user's state, not the
   * agents'.
   */
  read?: boolean;
  /** support messages an agent edited: when, in created_at's format */
  edited_at?: string;
}

/** "YYYY-MM-DD HH:MM:SS" in UTC, the seed's timestamp format. */
export function formatWireTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

export function toWire(message: ChatMessage): ChatMessageWire {
  return {
    id: message.id,
    user_id: message.userId,
    message: message.text,
    photo_url: message.photoUrls[0] ?? null,
    photo_urls: message.photoUrls,
    direction: message.direction,
    created_at: formatWireTime(message.createdAt),
    ...(message.direction === "support" ? { read: Boolean(message.readAt) } : {}),
    ...(message.editedAt ? { edited_at: formatWireTime(message.editedAt) } : {}),
  };
}
