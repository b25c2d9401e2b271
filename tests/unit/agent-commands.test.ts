// The rules behind the agents' commands that need no Telegram: what counts
// as a command or a note, who is a person, /history's count and pieces.
import type { Message } from "grammy/types";
import { describe, expect, it } from "vitest";
import { historyCount } from "../../server/telegram/agent-commands.js";
import { historyTexts, TEXT_LIMIT } from "../../server/telegram/agent-command-texts.js";
import { isCommandOrNote, isFromPerson } from "../../server/telegram/group-messages.js";
import type { ChatMessage } from "../../server/support/types.js";

const GROUP = -100123;
const msg = (fields: Partial<Message>) => ({ message_id: 1, date: 0, chat: { id: GROUP, type: "supergroup", title: "g" }, ...fields }) as Message;

describe("isCommandOrNote", () => {
  it.each([
    ["/info", true],
    ["/history@support_bot 5", true],
    ["  // note for colleagues", true],
    ["//", true],
    ["/путь/к/файлу", false],
    ["/etc/hosts is the file", false],
    ["обычный ответ", false],
    ["ответ // с комментарием", false],
  ])("%s → %s", (text, expected) => {
    expect(isCommandOrNote(msg({ text }))).toBe(expected);
  });

  it("reads a photo's caption and Telegram's bot_command entity", () => {
    expect(isCommandOrNote(msg({ caption: "// внутреннее" }))).toBe(true);
    expect(isCommandOrNote(msg({ text: "/x-y", entities: [{ type: "bot_command", offset: 0, length: 2 }] }))).toBe(true);
  });
});

describe("isFromPerson", () => {
  it("tells people from bots; an anonymous administrator of the group is a person", () => {
    expect(isFromPerson(msg({ from: { id: 1, is_bot: false, first_name: "A" } }))).toBe(true);
    expect(isFromPerson(msg({ from: { id: 2, is_bot: true, first_name: "B" } }))).toBe(false);
    const anonymous = { id: 1087968824, is_bot: true, first_name: "Group" };
    expect(isFromPerson(msg({ from: anonymous, sender_chat: { id: GROUP, type: "supergroup", title: "g" } }))).toBe(true);
    expect(isFromPerson(msg({ from: anonymous, sender_chat: { id: -100999, type: "channel", title: "c" } }))).toBe(false);
    expect(isFromPerson(msg({}))).toBe(false);
  });
});

describe("/history", () => {
  it("takes n from 1 up, at most 50, 10 by default; anything else is refused", () => {
    expect(historyCount("")).toBe(10);
    expect(historyCount(" 7 ")).toBe(7);
    expect(historyCount("500")).toBe(50);
    expect(historyCount("0")).toBeNull();
    expect(historyCount("-3")).toBeNull();
    expect(historyCount("2.5")).toBeNull();
    expect(historyCount("десять")).toBeNull();
  });

  it("splits at Telegram's limit without losing a line", () => {
    const messages: ChatMessage[] = Array.from({ length: 50 }, (_, i) => ({
      id: i + 1,
      userId: "u",
      text: `${i}:${"ж".repeat(300)}`,
      direction: i % 2 ? "support" : "user",
      photoUrls: i === 3 ? ["/uploads/a.jpg"] : [],
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
    }));
    const pieces = historyTexts("u", messages);
    expect(pieces.length).toBeGreaterThan(3);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(TEXT_LIMIT);
    const all = pieces.join("\n");
    for (let i = 0; i < 50; i++) expect(all).toContain(`${i}:ж`);
    expect(all).toContain("2026-01-01 00:03:00 · Поддержка: [фото: 1] 3:");
    expect(historyTexts("u", [])).toEqual(["У пользователя u нет сообщений."]);
  });
});
