// How one user message becomes Telegram calls into the support group.
//
// The user's text is never parsed by Telegram: calls carry no parse_mode and
// our own formatting travels as explicit entities, so asterisks, brackets or
// "<b>" in a message read literally and cannot fail with "can't parse
// entities". Limits (https://core.telegram.org/bots/api#sendmessage):
// 4096 characters of text, 1024 of caption, 2..10 items per media group.
// Telegram counts UTF-16 code units for these limits and for entity offsets,
// which is what JavaScript's string length measures.
import type { MessageEntity } from "grammy/types";
import type { GroupPost, OutgoingPhoto } from "../ports.js";

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
export const MEDIA_GROUP_MAX = 10;

export type GroupCall =
  | { method: "sendMessage"; text: string; entities: MessageEntity[]; units: number }
  | { method: "sendPhoto"; photo: OutgoingPhoto; caption: string; entities: MessageEntity[]; units: number }
  | { method: "sendMediaGroup"; photos: OutgoingPhoto[]; caption: string; entities: MessageEntity[]; units: number };

export interface PlanOptions {
  /** send photos as links in the text (Telegram could not take them as photos) */
  photosAsLinks?: boolean;
  /** origin for links to this server's uploads, e.g. "https://support.example.com" */
  publicOrigin?: string;
}

interface Formatted {
  text: string;
  entities: MessageEntity[];
}

function header(post: GroupPost, title: string): Formatted {
  const who = post.userName ? `${title} от ${post.userName}` : `${title} от пользователя`;
  const idLine = `ID: ${post.userId}`;
  const text = `${who}\n${idLine}`;
  return {
    text,
    entities: [
      { type: "bold", offset: 0, length: who.length },
      { type: "code", offset: who.length + 1 + 4, length: post.userId.length },
    ],
  };
}

function withBody(head: Formatted, body: string): Formatted {
  return body ? { text: `${head.text}\n\n${body}`, entities: head.entities } : head;
}

/** Splits text into pieces of at most `limit` UTF-16 units, preferring line and word breaks, never splitting a surrogate pair. */
export function splitText(text: string, limit: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    let cut = limit;
    const window = rest.slice(Math.floor(limit * 0.8), limit);
    const newline = window.lastIndexOf("\n");
    const space = window.lastIndexOf(" ");
    const soft = newline >= 0 ? newline : space;
    if (soft >= 0) cut = Math.floor(limit * 0.8) + soft + 1;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

function textCalls(post: GroupPost, body: string, title: string): GroupCall[] {
  const first = header(post, title);
  const whole = withBody(first, body);
  if (whole.text.length <= TEXT_LIMIT) return [{ method: "sendMessage", ...whole, units: 1 }];
  // Long text: the header goes with the first piece, later pieces say whose
  // they are so an agent can reply to any of them.
  const calls: GroupCall[] = [];
  const firstRoom = TEXT_LIMIT - first.text.length - 2;
  const [head = "", ...tail] = splitText(body, firstRoom);
  calls.push({ method: "sendMessage", ...withBody(first, head), units: 1 });
  const restText = tail.join("");
  const marker = (n: number) => `↳ ID: ${post.userId}, часть ${n}`;
  const room = TEXT_LIMIT - marker(99).length - 2;
  splitText(restText, room).forEach((piece, i) => {
    const m = marker(i + 2);
    calls.push({ method: "sendMessage", text: `${m}\n\n${piece}`, entities: [{ type: "italic", offset: 0, length: m.length }], units: 1 });
  });
  return calls;
}

function linkFor(photo: OutgoingPhoto, publicOrigin: string | undefined): string {
  return photo.url.startsWith("/") && publicOrigin ? `${publicOrigin}${photo.url}` : photo.url;
}

export function planGroupPost(post: GroupPost, options: PlanOptions = {}): GroupCall[] {
  const photos = post.photos.slice(0, MEDIA_GROUP_MAX);
  if (photos.length === 0) return textCalls(post, post.text, "Сообщение");
  if (options.photosAsLinks) {
    const links = photos.map((p) => linkFor(p, options.publicOrigin)).join("\n");
    const body = post.text ? `${post.text}\n\nФото: ${links}` : `Фото: ${links}`;
    return textCalls(post, body, "Сообщение");
  }
  const withCaption = withBody(header(post, "Фото"), post.text);
  const fits = withCaption.text.length <= CAPTION_LIMIT;
  const caption = fits ? withCaption : header(post, "Фото");
  const calls: GroupCall[] = fits ? [] : textCalls(post, post.text, "Сообщение");
  if (photos.length === 1) {
    calls.push({ method: "sendPhoto", photo: photos[0] as OutgoingPhoto, caption: caption.text, entities: caption.entities, units: 1 });
  } else {
    calls.push({ method: "sendMediaGroup", photos, caption: caption.text, entities: caption.entities, units: photos.length });
  }
  return calls;
}
