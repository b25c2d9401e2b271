// The support bridge's rules: a user's message is committed (with its outbox
// job) before any Telegram call; agent replies are stored, sent live and
// pushed; history carries the daily greeting; the app reports what the user
// has read. A banned user's messages are refused before anything is kept.
import type { Sql } from "../db/sql.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { DeliveryOutcome, GroupDelivery } from "../telegram/group-lane.js";
import type { PushDelivery } from "../outbox/push-delivery.js";
import type { OutgoingPhoto, ReadState, RealtimePort } from "../ports.js";
import type { GreetingStore } from "./greeting-store.js";
import type { MessageStore, StoredUserMessage } from "./message-store.js";
import type { MarkRead } from "./read-input.js";
import type { UserStateStore } from "./user-state-store.js";
import { type ChatMessage } from "./types.js";

export interface SendUserMessageInput {
  userId: string;
  userName: string | null;
  text: string;
  photos: OutgoingPhoto[];
  clientMessageId: string | null;
}

/** The `/send_message` answer (SPEC §2). */
export interface SendMessageAnswer {
  success: true;
  message_id: number | null;
  photo_url: string | null;
  photo_count: number;
  id: number;
  delivery: "sent" | "queued";
}

export interface SendResult {
  answer: SendMessageAnswer;
  /** true when a retry matched an earlier message: nothing new was stored */
  duplicate: boolean;
}

export interface SupportReplyInput {
  userId: string;
  text: string;
  photoUrls: string[];
  /** the agent's message in the group */
  chatId: number;
  telegramMessageId: number;
}

export interface SupportServiceDeps {
  sql: Sql;
  messages: MessageStore;
  greetings: GreetingStore;
  userStates: UserStateStore;
  groupDelivery: GroupDelivery;
  pushDelivery: PushDelivery;
  pushEnabled: boolean;
  realtime: RealtimePort;
  logger: Logger;
  /** told which support messages the user has just read (the agents see 👀) */
  onRead?(messageIds: number[]): void;
  /** told of each agent reply once it is stored and sent live (delivery feedback) */
  onSupportReply?(message: ChatMessage): void;
  /** how long /send_message waits for Telegram when the message can go at once */
  sendWaitMs?: number;
}

export class SupportService {
  private readonly pendingAnswers = new Map<string, Promise<SendMessageAnswer>>();
  private readonly sendWaitMs: number;

  constructor(private readonly deps: SupportServiceDeps) {
    this.sendWaitMs = deps.sendWaitMs ?? 3_000;
  }

  /** The earlier answer for a retried client_message_id, if there was one. */
  async replay(userId: string, clientMessageId: string | null): Promise<SendMessageAnswer | null> {
    if (!clientMessageId) return null;
    const pending = this.pendingAnswers.get(idempotencyKey(userId, clientMessageId));
    if (pending) return pending;
    const stored = await this.deps.messages.byClientMessageId(userId, clientMessageId);
    return stored ? this.recordedAnswer(stored, userId, clientMessageId) : null;
  }

  /**
   * Refuses a banned user (403) before the edge reads photos or stores
   * anything; sendUserMessage checks again inside its transaction.
   */
  async assertMaySend(userId: string): Promise<void> {
    if (await this.deps.userStates.isBanned(userId)) throw bannedError();
  }

  /**
   * A retry whose first request is still waiting for Telegram on another
   * instance (SPEC §8; on this one, pendingAnswers has it): it waits for the
   * answer that request records, so both get the same answer, as they would
   * from one instance. Only while the first can still be waiting; a first
   * request that died answers from the row (queued, or sent).
   */
  private async recordedAnswer(existing: StoredUserMessage, userId: string, clientMessageId: string | null): Promise<SendMessageAnswer> {
    const wait = this.sendWaitMs + ANSWER_RECORD_MARGIN_MS;
    // (the row's time is the first instance's clock: bounded by ours too)
    const deadline = Math.min(existing.createdAt.getTime() + wait, Date.now() + wait);
    let current = existing;
    while (clientMessageId && !current.idempotentAnswer && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, ANSWER_POLL_MS));
      current = (await this.deps.messages.byClientMessageId(userId, clientMessageId)) ?? current;
    }
    return answerFor(current);
  }

  async sendUserMessage(input: SendUserMessageInput): Promise<SendResult> {
    if (!input.clientMessageId) return this.store(input);
    // One request per key at a time in this process; retries wait for its
    // answer. The key is taken before the transaction: taken after the
    // commit, a retry waiting on the unique index (PostgreSQL) could wake
    // between the commit and the taking, find no answer pending and build
    // another ("queued" beside the first's "sent").
    const key = idempotencyKey(input.userId, input.clientMessageId);
    const pending = this.pendingAnswers.get(key);
    if (pending) return { answer: await pending, duplicate: true };
    const result = this.store(input);
    const answer = result.then((r) => r.answer);
    this.pendingAnswers.set(key, answer);
    void answer.finally(() => this.pendingAnswers.delete(key)).catch(() => undefined);
    return result;
  }

  private async store(input: SendUserMessageInput): Promise<SendResult> {
    const { sql, groupDelivery, realtime } = this.deps;
    // Check and insert in one transaction: concurrent retries with one key
    // cannot both insert (the unique (user_id, client_message_id) index
    // backs this up across instances).
    const stored = await sql.transaction(async (tx) => {
      const messages = this.deps.messages.in(tx);
      if (input.clientMessageId) {
        const existing = await messages.byClientMessageId(input.userId, input.clientMessageId);
        if (existing) return { existing, message: null, jobId: null } as const;
      }
      const userStates = this.deps.userStates.in(tx);
      if (await userStates.isBanned(input.userId)) throw bannedError();
      // A closed conversation opens again with the user's next message.
      // Before the lane's lock: what runs under it is every instance's
      // sends one at a time, so it holds the two inserts and the commit only.
      const createdAt = new Date();
      await userStates.reopen(input.userId, createdAt);
      // The message's id must follow the group's order (its post's job id):
      // on PostgreSQL both are taken under the lane's lock, in commit order.
      await groupDelivery.lockLane(tx);
      const message = await messages.insertOnce({
        createdAt,
        userId: input.userId,
        userName: input.userName,
        text: input.text,
        direction: "user",
        photoUrls: input.photos.map((p) => p.url),
        clientMessageId: input.clientMessageId,
      });
      if (!message) {
        // Another instance's request with the same key committed first (the unique index decided).
        const existing = input.clientMessageId ? await messages.byClientMessageId(input.userId, input.clientMessageId) : null;
        if (!existing) throw new Error("a user message without a client_message_id collided with a stored one");
        return { existing, message: null, jobId: null } as const;
      }
      const jobId = await groupDelivery.enqueuePost(tx, { messageId: message.id, userId: input.userId, userName: input.userName, text: input.text, photos: input.photos });
      return { existing: null, message, jobId } as const;
    });

    // Stored by an earlier request (this process's has finished: it saved its
    // answer) or by another instance, whose request may still be waiting.
    if (stored.existing) return { answer: await this.recordedAnswer(stored.existing, input.userId, input.clientMessageId ?? null), duplicate: true };

    realtime.emitToUser(stored.message);
    const outcome = await groupDelivery.awaitOutcome(stored.jobId, stored.message.id, this.sendWaitMs);
    const answer = buildAnswer(stored.message, outcome);
    if (input.clientMessageId) await this.deps.messages.saveIdempotentAnswer(stored.message.id, answer);
    return { answer, duplicate: false };
  }

  /** History for the app; the day's first request adds the greeting. */
  async history(userId: string, limit: number, userName: string | null): Promise<{ messages: ChatMessage[]; greetingSent: boolean }> {
    const greeting = await this.deps.greetings.greetOnce(userId, userName, new Date());
    if (greeting) this.deps.realtime.emitToUser(greeting);
    return { messages: await this.deps.messages.history(userId, limit), greetingSent: greeting !== null };
  }

  /** The user's support messages not read yet. */
  unreadCount(userId: string): Promise<number> {
    return this.deps.messages.unreadCount(userId);
  }

  /**
   * The app showed the user every message up to `upToId`: those support
   * messages are read, on every device (`read` to all the user's sockets).
   * Marking never un-reads; an id beyond the newest marks everything.
   */
  async markRead({ userId, upToId }: MarkRead): Promise<ReadState> {
    const { sql, realtime } = this.deps;
    const { unread, newlyRead } = await sql.transaction(async (tx) => {
      const messages = this.deps.messages.in(tx);
      const newlyRead = await messages.markRead(userId, upToId, new Date());
      return { unread: await messages.unreadCount(userId), newlyRead };
    });
    const state: ReadState = { userId, upToId, unread };
    realtime.emitRead(state);
    if (newlyRead.length > 0) this.deps.onRead?.(newlyRead);
    return state;
  }

  /**
   * An agent's reply from the group: stored, sent live, pushed. Exactly once
   * per Telegram message: a redelivered update finds it stored and returns null.
   */
  async addSupportReply(input: SupportReplyInput): Promise<ChatMessage | null> {
    const { sql, pushEnabled, realtime, pushDelivery } = this.deps;
    const message = await sql.transaction(async (tx) => {
      const created = await this.deps.messages.in(tx).insertOnce({
        userId: input.userId,
        userName: null,
        text: input.text,
        direction: "support",
        photoUrls: input.photoUrls,
        telegram: { chatId: input.chatId, messageId: input.telegramMessageId },
      });
      if (created && pushEnabled) {
        await this.deps.pushDelivery.enqueue(tx, input.userId, created.id);
      }
      return created;
    });
    if (!message) return null;
    realtime.emitToUser(message);
    if (pushEnabled) pushDelivery.kick();
    this.deps.onSupportReply?.(message);
    return message;
  }
}

function bannedError(): AppError {
  return new AppError("FORBIDDEN", "this user may not send support messages: an agent has blocked them");
}

function idempotencyKey(userId: string, clientMessageId: string): string {
  return `${userId}\u0000${clientMessageId}`;
}

function buildAnswer(message: ChatMessage, outcome: DeliveryOutcome): SendMessageAnswer {
  return {
    success: true,
    message_id: outcome.delivery === "sent" ? outcome.telegramMessageId : null,
    photo_url: message.photoUrls[0] ?? null,
    photo_count: message.photoUrls.length,
    id: message.id,
    delivery: outcome.delivery,
  };
}

/** How long after its wait a first request may take to record its answer. */
const ANSWER_RECORD_MARGIN_MS = 1_000;
const ANSWER_POLL_MS = 50;

function answerFor(stored: StoredUserMessage): SendMessageAnswer {
  if (stored.idempotentAnswer) return JSON.parse(stored.idempotentAnswer) as SendMessageAnswer;
  return buildAnswer(stored, stored.delivery === "sent" && stored.telegramMessageId !== null ? { delivery: "sent", telegramMessageId: stored.telegramMessageId } : { delivery: "queued" });
}
