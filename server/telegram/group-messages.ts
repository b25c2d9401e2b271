// What a message in the support group is, as the desk features see it: from
// a person or a bot, a command or a note for colleagues, and which app user
// it is about. Reply mode answers "which user" through the replied-to
// message; topic mode through message_thread_id, behind the same function.
import type { Message } from "grammy/types";

export type SupportGroupTest = (chat: Message["chat"]) => boolean;

/**
 * Whether a chat is the support group. `numericId` is GROUP_CHAT_ID as the
 * sender resolved it (an @username becomes the chat's numeric id before the
 * first post); once known it is the only test, since a group can change its
 * username. Every group feature asks this one function.
 */
export function supportGroupTest(groupChatId: string, numericId: () => number | null = () => null): SupportGroupTest {
  const username = groupChatId.startsWith("@") ? groupChatId.slice(1).toLowerCase() : null;
  return (chat) => {
    const known = numericId();
    if (known !== null) return chat.id === known;
    if (username !== null) return "username" in chat && chat.username?.toLowerCase() === username;
    return String(chat.id) === groupChatId;
  };
}

/**
 * A person wrote it. Bots (other bots in the group, our own echoes) are not
 * agents. An administrator posting anonymously arrives "from" Telegram's
 * GroupAnonymousBot with the group itself as sender_chat: a person, and an
 * administrator at that.
 */
export function isFromPerson(message: Message): boolean {
  if (message.sender_chat) return message.sender_chat.id === message.chat.id;
  return message.from !== undefined && !message.from.is_bot;
}

/** The text an agent wrote: the text, or a photo's caption. */
export function agentText(message: Pick<Message, "text" | "caption">): string {
  return message.text ?? message.caption ?? "";
}

/**
 * A command (`/info`, `/start@otherbot`…) or a note for colleagues (`// …`):
 * never a message for the user. Telegram marks commands with a bot_command
 * entity at offset 0; the pattern catches a forwarded or pasted one without it.
 */
export function isCommandOrNote(message: Pick<Message, "text" | "caption" | "entities" | "caption_entities">): boolean {
  const text = agentText(message).trimStart();
  if (text.startsWith("//")) return true;
  const entities = message.entities ?? message.caption_entities ?? [];
  if (entities.some((e) => e.type === "bot_command" && e.offset === 0)) return true;
  return /^\/[A-Za-z0-9_]{1,32}(@\w+)?(\s|$)/.test(text);
}

/**
 * The forum topic a message was written in, or null (General, or a group
 * that is no forum). Telegram sets message_thread_id on replies in any
 * supergroup too; only is_topic_message says the message is in a topic.
 */
export function topicOf(message: Pick<Message, "is_topic_message" | "message_thread_id">): number | null {
  return message.is_topic_message === true && message.message_thread_id !== undefined ? message.message_thread_id : null;
}

/** Telegram's own notes about a topic (created, closed, reopened, renamed…): no one wrote them. */
export function isForumServiceMessage(message: Message): boolean {
  return (
    message.forum_topic_created !== undefined ||
    message.forum_topic_closed !== undefined ||
    message.forum_topic_reopened !== undefined ||
    message.forum_topic_edited !== undefined ||
    message.general_forum_topic_hidden !== undefined ||
    message.general_forum_topic_unhidden !== undefined
  );
}

export interface UserResolverDeps {
  /** the user a message the bot posted into the group belongs to */
  userForPost(chatId: number, telegramMessageId: number): Promise<string | null>;
  /** the user an agent's message (one that became a support message) was for */
  userForReply(chatId: number, telegramMessageId: number): Promise<string | null>;
  /** topic mode: the user a forum topic belongs to */
  userForTopic?(chatId: number, threadId: number): Promise<string | null>;
}

export type UserResolver = (message: Message, botId: number) => Promise<string | null>;

/**
 * Topic mode: the user whose topic the message is in. Reply mode (and a
 * topic of no user): the user whose post (or whose delivered support reply)
 * the message replies to; null when it replies to nothing of a user's. In a
 * topic every message "replies" to the topic's creation message, which the
 * bot sent but which is no user's post, so it finds no one.
 */
export function createUserResolver(deps: UserResolverDeps): UserResolver {
  return async (message, botId) => {
    const thread = topicOf(message);
    const inTopic = thread === null ? null : ((await deps.userForTopic?.(message.chat.id, thread)) ?? null);
    if (inTopic) return inTopic;
    const original = message.reply_to_message;
    if (!original) return null;
    if (original.from?.id === botId) return deps.userForPost(message.chat.id, original.message_id);
    return deps.userForReply(message.chat.id, original.message_id);
  };
}
