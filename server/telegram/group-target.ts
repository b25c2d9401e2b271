// Where a post of the bot's desk features goes in the support group: as a
// reply to a message (reply mode). Topic mode adds the topic's
// message_thread_id here, so every caller (notices to agents, command
// answers, reminders) follows it without knowing the mode.
import type { Message } from "grammy/types";

export interface GroupTarget {
  /** the message the post replies to */
  replyTo: number;
  /** the forum topic it goes into (topic mode) */
  threadId?: number;
}

/** The target for answering a message someone wrote in the group: a reply to it, in its topic if it has one. */
export function answerTarget(message: Pick<Message, "message_id" | "message_thread_id" | "is_topic_message">): GroupTarget {
  return { replyTo: message.message_id, ...(message.is_topic_message && message.message_thread_id !== undefined ? { threadId: message.message_thread_id } : {}) };
}

/** The send options for a target; a reply whose message is gone still goes out. */
export function targetOptions(target: GroupTarget): { reply_parameters: { message_id: number; allow_sending_without_reply: true }; message_thread_id?: number } {
  return {
    reply_parameters: { message_id: target.replyTo, allow_sending_without_reply: true },
    ...(target.threadId !== undefined ? { message_thread_id: target.threadId } : {}),
  };
}

/**
 * A reminder about a waiting user: a reply to their newest waiting post, in
 * their topic when topic mode gives them one (`topicOf`: the thread id, or null).
 */
export function waitingUserTarget(waiting: { userId: string; telegramMessageId: number }, topicOf: (userId: string) => number | null = () => null): GroupTarget {
  const threadId = topicOf(waiting.userId);
  return { replyTo: waiting.telegramMessageId, ...(threadId !== null ? { threadId } : {}) };
}
