// What the bot answers to agents' commands in the support group: plain
// Russian text, sent without parse_mode, so a user's name or message reads
// literally whatever characters it holds.
import { HISTORY_MAX, type UserInfo } from "../support/conversation-service.js";
import { formatWireTime, type ChatMessage } from "../support/types.js";
import { splitText } from "./group-post-plan.js";

/** Telegram's limit for one text message. */
export const TEXT_LIMIT = 4096;

const time = (date: Date | null) => (date ? `${formatWireTime(date)} UTC` : "—");

export function usageText(command: string): string {
  if (command === "delete") return "/delete отправьте ответом на свой ответ пользователю: он исчезнет из истории в приложении.";
  return `/${command} отправьте в теме пользователя или ответом на его сообщение в группе: так бот поймёт, о ком речь.`;
}

export function infoText(info: UserInfo): string {
  const platforms = info.platforms.length > 0 ? ` (${info.platforms.join(", ")})` : "";
  const push = !info.pushEnabled ? "нет: push на сервере выключен" : info.pushReachable ? "да" : "нет: нет устройств";
  const ban = info.banned ? `да${info.banReason ? `, причина: ${info.banReason}` : ""}` : "нет";
  return [
    `Пользователь: ${info.userName ?? "без имени"} · ${info.userId}`,
    `Устройства: ${info.deviceCount}${platforms}`,
    `Push доходит: ${push}`,
    `Первое сообщение: ${time(info.firstMessageAt)}`,
    `Последнее сообщение: ${time(info.lastMessageAt)}`,
    `Сообщений: ${info.messageCount}`,
    `Заблокирован: ${ban}`,
    `Разговор: ${info.closed ? "закрыт" : "открыт"}`,
  ].join("\n");
}

function historyLine(message: ChatMessage): string {
  const who = message.direction === "support" ? "Поддержка" : "Пользователь";
  const photos = message.photoUrls.length > 0 ? ` [фото: ${message.photoUrls.length}]` : "";
  const edited = message.editedAt ? " (изменено)" : "";
  return `${formatWireTime(message.createdAt)} · ${who}${edited}:${photos} ${message.text}`.trimEnd();
}

/** The history as messages of at most TEXT_LIMIT characters each. */
export function historyTexts(userId: string, messages: readonly ChatMessage[]): string[] {
  if (messages.length === 0) return [`У пользователя ${userId} нет сообщений.`];
  const head = `Последние сообщения пользователя ${userId} (${messages.length}), время UTC:`;
  return splitText([head, ...messages.map(historyLine)].join("\n\n"), TEXT_LIMIT);
}

export function historyUsageText(): string {
  return `/history [n]: последние n сообщений пользователя (по умолчанию 10, не больше ${HISTORY_MAX}). Отправьте в теме пользователя или ответом на его сообщение.`;
}

export const closedText = "Разговор закрыт. Следующее сообщение пользователя откроет его снова.";
export const bannedText = (userId: string, reason: string | null) =>
  `Пользователь ${userId} заблокирован${reason ? ` (причина: ${reason})` : ""}. Его новые сообщения не принимаются; история остаётся в приложении.`;
export const unbannedText = (userId: string, wasBanned: boolean) =>
  wasBanned ? `Пользователь ${userId} разблокирован.` : `Пользователь ${userId} не был заблокирован.`;
export const deletedText = "Сообщение удалено из истории в приложении.";
export const notDeletableText = "Это сообщение не было доставлено пользователю как ответ поддержки (или уже удалено): удалять нечего.";
