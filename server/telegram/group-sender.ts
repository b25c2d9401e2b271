// Executes planned group calls with grammY. Local uploads go to Telegram as
// file uploads (Telegram cannot fetch this server's URLs when it runs behind
// a firewall or on localhost); external photo URLs are passed as URLs.
//
// GROUP_CHAT_ID may name a public group by @username. Telegram answers
// updates with the numeric id only, so the sender learns it (getChat) before
// its first post, and everything keyed by the chat (the mapping an agent's
// reply is matched with, the pacing window) uses that one number.
import { access } from "node:fs/promises";
import { type Api, InputFile } from "grammy";
import type { InputMediaPhoto } from "grammy/types";
import type { OutgoingPhoto } from "../ports.js";
import type { GroupCall } from "./group-post-plan.js";
import { PhotoUnavailableError } from "./send-errors.js";

export interface GroupSender {
  /** GROUP_CHAT_ID as configured: "-100…" or "@publicgroup" */
  readonly configured: string;
  /** the group's numeric id; null until resolveChat has learnt it (an @username) */
  readonly chatId: number | null;
  /** the numeric id, asking Telegram (getChat) when only a username is configured; throws what the call throws */
  resolveChat(): Promise<number>;
  /** Makes one call (into a forum topic when `threadId` is given); resolves to the ids of the messages Telegram created. */
  send(call: GroupCall, threadId?: number): Promise<number[]>;
  /** createForumTopic; resolves to the new topic's message_thread_id */
  createTopic(name: string): Promise<number>;
  closeTopic(threadId: number): Promise<void>;
  reopenTopic(threadId: number): Promise<void>;
}

async function media(photo: OutgoingPhoto): Promise<InputFile | string> {
  if (!photo.localPath) return photo.url;
  try {
    await access(photo.localPath);
  } catch {
    throw new PhotoUnavailableError(`stored photo ${photo.url} is missing on disk`);
  }
  return new InputFile(photo.localPath);
}

export function createGroupSender(api: Api, configured: string): GroupSender {
  let chatId: number | null = /^-?\d+$/.test(configured) ? Number(configured) : null;
  const target = (): number => {
    if (chatId === null) throw new Error("the support group's id is not known yet (resolveChat first)");
    return chatId;
  };
  return {
    configured,
    get chatId() {
      return chatId;
    },
    async resolveChat() {
      chatId ??= (await api.getChat(configured)).id;
      return chatId;
    },
    async createTopic(name) {
      return (await api.createForumTopic(target(), name)).message_thread_id;
    },
    async closeTopic(threadId) {
      await api.closeForumTopic(target(), threadId);
    },
    async reopenTopic(threadId) {
      await api.reopenForumTopic(target(), threadId);
    },
    async send(call, threadId) {
      const thread = threadId === undefined ? {} : { message_thread_id: threadId };
      switch (call.method) {
        case "sendMessage": {
          const sent = await api.sendMessage(target(), call.text, { ...thread, entities: call.entities, link_preview_options: { is_disabled: true } });
          return [sent.message_id];
        }
        case "sendPhoto": {
          const sent = await api.sendPhoto(target(), await media(call.photo), { ...thread, caption: call.caption, caption_entities: call.entities });
          return [sent.message_id];
        }
        case "sendMediaGroup": {
          const items: InputMediaPhoto[] = [];
          for (const [i, photo] of call.photos.entries()) {
            items.push({ type: "photo", media: await media(photo), ...(i === 0 ? { caption: call.caption, caption_entities: call.entities } : {}) });
          }
          const sent = await api.sendMediaGroup(target(), items, thread);
          return sent.map((m) => m.message_id);
        }
      }
    },
  };
}
