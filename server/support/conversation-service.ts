// The agents' side of a user's conversation (SPEC §7): what /info and
// /history show, closing it, banning, and the agent changing or taking back
// a reply that became a support message. Telegram commands and edits call
// these; nothing here knows about Telegram beyond the (chat, message) a
// reply is stored under.
import type { Sql } from "../db/sql.js";
import type { RealtimePort } from "../ports.js";
import type { MessageStore } from "./message-store.js";
import type { ChatMessage } from "./types.js";
import type { UserStateStore } from "./user-state-store.js";

export const HISTORY_DEFAULT = 10;
export const HISTORY_MAX = 50;

/** The devices a user registered, as /info needs them. */
export interface UserDevices {
  platformsOf(userId: string): Promise<(string | null)[]>;
}

export interface UserInfo {
  userId: string;
  userName: string | null;
  deviceCount: number;
  /** one entry per device; "unknown" when the app did not say */
  platforms: string[];
  /** push is configured and the user has a token FCM may reach */
  pushReachable: boolean;
  pushEnabled: boolean;
  firstMessageAt: Date | null;
  lastMessageAt: Date | null;
  messageCount: number;
  banned: boolean;
  banReason: string | null;
  closed: boolean;
}

export interface ConversationServiceDeps {
  sql: Sql;
  messages: MessageStore;
  userStates: UserStateStore;
  devices: UserDevices;
  pushEnabled: boolean;
  realtime: RealtimePort;
  now?: () => Date;
}

/** Where an agent's message in the group lives. */
export interface GroupMessageRef {
  chatId: number | string;
  telegramMessageId: number;
}

export class ConversationService {
  private readonly now: () => Date;

  constructor(private readonly deps: ConversationServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async info(userId: string): Promise<UserInfo> {
    const { messages, userStates, devices, pushEnabled } = this.deps;
    const stats = await messages.stats(userId);
    const state = await userStates.get(userId);
    const platforms = (await devices.platformsOf(userId)).map((p) => p ?? "unknown");
    return {
      userId,
      userName: stats.userName,
      deviceCount: platforms.length,
      platforms,
      pushReachable: pushEnabled && platforms.length > 0,
      pushEnabled,
      firstMessageAt: stats.firstAt,
      lastMessageAt: stats.lastAt,
      messageCount: stats.messageCount,
      banned: state.bannedAt !== null,
      banReason: state.banReason,
      closed: state.closedAt !== null,
    };
  }

  /** The last `count` messages (clamped to 1..HISTORY_MAX), oldest first. */
  history(userId: string, count = HISTORY_DEFAULT): Promise<ChatMessage[]> {
    const n = Math.min(HISTORY_MAX, Math.max(1, Math.floor(count)));
    return this.deps.messages.history(userId, n);
  }

  /** Resolves the conversation; the user's next message opens it again. */
  close(userId: string): Promise<void> {
    return this.deps.userStates.close(userId, this.now());
  }

  ban(userId: string, reason: string | null): Promise<void> {
    return this.deps.userStates.ban(userId, reason, this.now());
  }

  /** false when the user was not banned */
  unban(userId: string): Promise<boolean> {
    return this.deps.userStates.unban(userId, this.now());
  }

  /** The support message an agent's group message became, if it is still in the app. */
  supportMessageFor(ref: GroupMessageRef): Promise<ChatMessage | null> {
    return this.deps.messages.supportMessageFor(ref.chatId, ref.telegramMessageId);
  }

  /**
   * The agent edited their reply in the group. Returns the changed message,
   * or null when nothing the app shows changed (Telegram also sends
   * edited_message for formatting-only edits and link previews) or the
   * message is no support message.
   */
  async editReply(ref: GroupMessageRef, text: string): Promise<ChatMessage | null> {
    const { sql, realtime } = this.deps;
    const edited = await sql.transaction(async (tx) => {
      const messages = this.deps.messages.in(tx);
      const current = await messages.supportMessageFor(ref.chatId, ref.telegramMessageId);
      if (!current || current.text === text) return null;
      const at = this.now();
      if (!(await messages.editText(current.id, text, at))) return null;
      return { ...current, text, editedAt: at };
    });
    if (edited) realtime.emitUpdated(edited);
    return edited;
  }

  /** /delete: the reply leaves the app's history; null when it was no support message (or gone already). */
  async deleteReply(ref: GroupMessageRef): Promise<ChatMessage | null> {
    const { sql, realtime } = this.deps;
    const deleted = await sql.transaction(async (tx) => {
      const messages = this.deps.messages.in(tx);
      const current = await messages.supportMessageFor(ref.chatId, ref.telegramMessageId);
      return current && (await messages.markDeleted(current.id, this.now())) ? current : null;
    });
    if (deleted) realtime.emitDeleted(deleted.userId, deleted.id);
    return deleted;
  }
}
