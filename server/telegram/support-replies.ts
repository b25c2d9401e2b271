// Group → user (SPEC §4, §7): an agent's message in the support group that
// replies to a message the bot posted for a user becomes a support message
// for that user, and so does any message a person writes in a user's forum
// topic (topic mode), reply or not. Text, or caption + photo (the largest size, fetched from
// Telegram into our uploads). Commands and `//` notes for colleagues never
// do; anything else in the group, and every other chat, reaches no user.
// An agent's edit of a delivered reply changes the stored text (SPEC §7).
//
// Errors are thrown on purpose (Telegram unreachable while fetching the
// photo, the store failing): the webhook answers non-2xx and Telegram
// redelivers the update. Problems a retry cannot fix (photo too large, not
// an image, Telegram refusing getFile or the download) are logged and the
// text still goes through.
import { Composer, GrammyError, type Context } from "grammy";
import type { Message, PhotoSize } from "grammy/types";
import type { Logger } from "../logger.js";
import { MAX_AGENT_PHOTO_BYTES } from "../storage/uploads.js";
import type { SupportReplyInput } from "../support/support-service.js";
import type { AddOutcome, AlbumItem } from "./agent-albums.js";
import { agentText, isCommandOrNote, isForumServiceMessage, isFromPerson, topicOf, type SupportGroupTest } from "./group-messages.js";

import { answerTarget, type GroupTarget } from "./group-target.js";

/** Told to the agent, once, when they sent something the app cannot show. */
export const NOT_SHOWN_TEXT = "Приложение показывает только текст и фото; это сообщение пользователю не доставлено.";

export type { SupportReplyInput } from "../support/support-service.js";

export interface SupportRepliesDeps {
  /** whether a chat is the support group (GROUP_CHAT_ID, resolved) */
  isSupportGroup: SupportGroupTest;
  /** the user a message the bot posted into the group belongs to, or null */
  userForPost(chatId: number, telegramMessageId: number): Promise<string | null>;
  /** the user a forum topic belongs to (topic mode), or null */
  userForTopic?(chatId: number, threadId: number): Promise<string | null>;
  addSupportReply(input: SupportReplyInput): Promise<unknown>;
  /** an agent edited their message: the support message it became takes the new text (null: nothing changed); without it edits are ignored */
  editSupportReply?(input: SupportReplyEdit): Promise<unknown>;
  savePhoto(bytes: Buffer, name: string): Promise<{ url: string }>;
  /** keeps one item of an agent's album (agent-albums.ts); without it an album's items go one by one */
  collectAlbumItem?(item: AlbumItem): Promise<AddOutcome>;
  /** an album item's update started; returns "finished" (agent-albums.ts: the album waits for it) */
  albumItemArriving?(chatId: number, mediaGroupId: string): () => void;
  /** a short notice to the agent in the group (e.g. NOT_SHOWN_TEXT); without it the notice is only logged */
  tellAgent?(chatId: number, target: GroupTarget, text: string): Promise<unknown>;
  logger: Logger;
  /** Bot API root the photo is downloaded from; default: the bot's own client apiRoot */
  apiRoot?: string;
  /** default MAX_AGENT_PHOTO_BYTES (20 MB): the most the Bot API's getFile serves, and what the store keeps */
  maxPhotoBytes?: number;
  /** default 20 s for one photo download */
  downloadTimeoutMs?: number;
}

export interface SupportReplyEdit {
  chatId: number;
  telegramMessageId: number;
  text: string;
}

/** A photo we will never be able to keep; retrying the update cannot help. */
class PermanentPhotoError extends Error {}

/** A 4xx other than 429 will be answered the same way next time: Telegram refuses this file. */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 429;
}

/** getFile, with Telegram's refusals (400 "file is too big" over 20 MB, an unknown file_id) made permanent. */
async function getFileOrRefusal(ctx: Context, fileId: string) {
  try {
    return await ctx.api.getFile(fileId);
  } catch (error) {
    if (error instanceof GrammyError && isRefusal(error.error_code)) {
      const hint = /too big/i.test(error.description) ? " (the Bot API serves files up to 20 MB; the agent can send it compressed, as a photo)" : "";
      throw new PermanentPhotoError(`Telegram refused getFile: ${error.error_code} ${error.description}${hint}`);
    }
    throw error;
  }
}

/** Telegram lists sizes smallest first, but the order is not promised: pick by area, then bytes. */
export function largestPhoto(sizes: readonly PhotoSize[]): PhotoSize | undefined {
  let best: PhotoSize | undefined;
  for (const size of sizes) {
    const score = size.width * size.height;
    const bestScore = best ? best.width * best.height : -1;
    if (!best || score > bestScore || (score === bestScore && (size.file_size ?? 0) > (best.file_size ?? 0))) best = size;
  }
  return best;
}

async function download(url: string, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (isRefusal(response.status)) {
    await response.body?.cancel();
    throw new PermanentPhotoError(`Telegram refused the file download: ${response.status}`);
  }
  if (!response.ok || !response.body) throw new Error(`Telegram answered ${response.status} to the file download`);
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body.cancel();
    throw new PermanentPhotoError(`the photo is ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    // enforced while reading: a missing or lying Content-Length cannot make us buffer more
    if (size > maxBytes) {
      await reader.cancel();
      throw new PermanentPhotoError(`the photo is larger than the ${maxBytes} bytes allowed`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}

/** The picture in a message, if it has one the app can show: a photo, or an image sent "as a file". */
export function imageOf(message: Message): Pick<PhotoSize, "file_id" | "file_unique_id"> | undefined {
  if (message.photo) return largestPhoto(message.photo);
  // an agent may send the picture "as a file", uncompressed
  if (message.document?.mime_type?.startsWith("image/")) return message.document;
  return undefined;
}

/** Media the app cannot show: video, voice, video notes, stickers, audio, animations, other files. */
export function hasOtherMedia(message: Message): boolean {
  if (imageOf(message)) return false;
  return Boolean(message.video || message.voice || message.video_note || message.sticker || message.audio || message.animation || message.document);
}

export function createSupportReplies(deps: SupportRepliesDeps): Composer<Context> {
  const maxBytes = deps.maxPhotoBytes ?? MAX_AGENT_PHOTO_BYTES;
  const timeoutMs = deps.downloadTimeoutMs ?? 20_000;
  const composer = new Composer<Context>();

  async function fetchPhoto(ctx: Context, fileId: string, fileUniqueId: string): Promise<string> {
    const file = await getFileOrRefusal(ctx, fileId);
    if (!file.file_path) throw new PermanentPhotoError("Telegram gave no file_path for the photo");
    if (file.file_size !== undefined && file.file_size > maxBytes) throw new PermanentPhotoError(`the photo is ${file.file_size} bytes, more than the ${maxBytes} allowed`);
    const apiRoot = deps.apiRoot ?? ctx.api.options?.apiRoot ?? "https://api.telegram.org";
    const url = `${apiRoot.replace(/\/+$/, "")}/file/bot${ctx.api.token}/${file.file_path}`;
    const bytes = await download(url, maxBytes, timeoutMs);
    const ext = /\.(\w{1,5})$/.exec(file.file_path)?.[1] ?? "jpg";
    try {
      return (await deps.savePhoto(bytes, `telegram-${fileUniqueId}.${ext}`)).url;
    } catch (error) {
      // the store refuses what is not an image; that will not change on a retry
      throw new PermanentPhotoError(`the photo could not be stored: ${(error as Error).message}`);
    }
  }

  /** The photo's upload URL; null when it can never be kept (logged), so the rest still goes through. */
  async function keepPhoto(ctx: Context, image: Pick<PhotoSize, "file_id" | "file_unique_id">, where: object): Promise<string | null> {
    try {
      return await fetchPhoto(ctx, image.file_id, image.file_unique_id);
    } catch (error) {
      if (!(error instanceof PermanentPhotoError)) throw error;
      deps.logger.warn({ ...where, reason: error.message }, "the agent's photo cannot be kept; delivering the text only");
      return null;
    }
  }

  async function tellAgent(message: Message, text: string): Promise<void> {
    if (!deps.tellAgent) return;
    try {
      await deps.tellAgent(message.chat.id, answerTarget(message), text);
    } catch (error) {
      // the agent misses a hint; the update itself is handled
      deps.logger.warn({ err: error, chatId: message.chat.id, telegramMessageId: message.message_id }, "could not tell the agent their message was not delivered");
    }
  }

  /** One item of an album: its photo is downloaded now, then the row is committed; the album goes out once quiet. */
  async function collectAlbumItem(ctx: Context, message: Message, mediaGroupId: string, userId: string): Promise<void> {
    const where = { chatId: message.chat.id, telegramMessageId: message.message_id, mediaGroupId };
    const image = imageOf(message);
    const finished = deps.albumItemArriving?.(message.chat.id, mediaGroupId);
    try {
      const photoUrl = image ? await keepPhoto(ctx, image, where) : null;
      const outcome = await deps.collectAlbumItem?.({
        chatId: message.chat.id,
        telegramMessageId: message.message_id,
        mediaGroupId,
        userId,
        kind: image ? "photo" : "other",
        photoUrl,
        caption: agentText(message),
        threadId: answerTarget(message).threadId,
      });
      deps.logger.debug({ ...where, userId, outcome }, "agent album item kept");
    } finally {
      finished?.();
    }
  }

  composer.on("message", async (ctx, next) => {
    const message = ctx.message;
    if (!deps.isSupportGroup(message.chat)) return next();
    const thread = topicOf(message);
    // Topic mode: the topic says whose it is. Telegram makes every topic
    // message a reply to the topic's creation message (the bot's), so the
    // reply rule below must not decide it.
    const topicUser = thread === null ? null : ((await deps.userForTopic?.(message.chat.id, thread)) ?? null);
    const original = message.reply_to_message;
    // Otherwise only replies to the bot's own posts can belong to a user; skip the lookup for anything else.
    if (!topicUser && (!original || original.from?.id !== ctx.me.id)) return next();
    const where = { chatId: message.chat.id, telegramMessageId: message.message_id, repliedTo: original?.message_id, threadId: thread ?? undefined };
    if (isCommandOrNote(message)) {
      deps.logger.debug(where, "a command or a note for colleagues in the group; not delivered");
      return;
    }
    if (topicUser && (!isFromPerson(message) || isForumServiceMessage(message))) {
      deps.logger.debug(where, "a service message or a bot's message in a user's topic; not delivered");
      return;
    }
    const userId = topicUser ?? (original ? await deps.userForPost(message.chat.id, original.message_id) : null);
    if (!userId) {
      deps.logger.debug(where, "group reply to a bot message that belongs to no user; ignored");
      return;
    }
    const text = agentText(message);
    if (message.media_group_id && deps.collectAlbumItem) return collectAlbumItem(ctx, message, message.media_group_id, userId);
    if (hasOtherMedia(message)) {
      deps.logger.info({ ...where, userId }, "the agent sent media the app cannot show (video, voice, sticker, file); not delivered, the agent is told");
      await tellAgent(message, NOT_SHOWN_TEXT);
      return;
    }
    const image = imageOf(message);
    const photoUrls: string[] = [];
    if (image) {
      const url = await keepPhoto(ctx, image, where);
      if (url) photoUrls.push(url);
    }
    if (text.trim() === "" && photoUrls.length === 0) {
      deps.logger.info(where, "group reply has neither text nor a photo we keep (sticker, voice…); ignored");
      return;
    }
    await deps.addSupportReply({ userId, text, photoUrls, chatId: message.chat.id, telegramMessageId: message.message_id });
    deps.logger.info({ ...where, userId, photos: photoUrls.length }, "agent reply delivered to user");
  });

  // Only the text (or caption) is taken from an edit: that is what the app
  // shows of a reply. Edits of anything that is no support message (a post,
  // a note, a command) find no stored message and change nothing.
  composer.on("edited_message", async (ctx, next) => {
    const message = ctx.editedMessage;
    if (!deps.isSupportGroup(message.chat) || !deps.editSupportReply) return next();
    if (!isFromPerson(message) || isCommandOrNote(message)) return;
    const where = { chatId: message.chat.id, telegramMessageId: message.message_id };
    const changed = await deps.editSupportReply({ ...where, text: agentText(message) });
    if (changed) deps.logger.info(where, "agent edited a support message; the app shows the new text");
  });
  return composer;
}
