// Executes planned group calls with grammY. Local uploads go to Telegram as
// file uploads (Telegram cannot fetch this server's URLs when it runs behind
// a firewall or on localhost); external photo URLs are passed as URLs.
import { access } from "node:fs/promises";
import { type Api, InputFile } from "grammy";
import type { InputMediaPhoto } from "grammy/types";
import type { OutgoingPhoto } from "../ports.js";
import type { GroupCall } from "./group-post-plan.js";
import { PhotoUnavailableError } from "./send-errors.js";

export interface GroupSender {
  readonly chatId: number | string;
  /** Makes one call; resolves to the ids of the messages Telegram created. */
  send(call: GroupCall): Promise<number[]>;
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

export function createGroupSender(api: Api, chatId: number | string): GroupSender {
  return {
    chatId,
    async send(call) {
      switch (call.method) {
        case "sendMessage": {
          const sent = await api.sendMessage(chatId, call.text, { entities: call.entities, link_preview_options: { is_disabled: true } });
          return [sent.message_id];
        }
        case "sendPhoto": {
          const sent = await api.sendPhoto(chatId, await media(call.photo), { caption: call.caption, caption_entities: call.entities });
          return [sent.message_id];
        }
        case "sendMediaGroup": {
          const items: InputMediaPhoto[] = [];
          for (const [i, photo] of call.photos.entries()) {
            items.push({ type: "photo", media: await media(photo), ...(i === 0 ? { caption: call.caption, caption_entities: call.entities } : {}) });
          }
          const sent = await api.sendMediaGroup(chatId, items);
          return sent.map((m) => m.message_id);
        }
      }
    },
  };
}
