// /start through the real grammY Bot (createBot) talking to the Telegram Bot
// API stand-in, and the bot menu set-up.
import type { Bot } from "grammy";
import type { User } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveSession } from "../../server/diary/sessions.js";
import { createBot } from "../../server/telegram/bot.js";
import { buildWebAppUrl, configureBotMenu, createDiaryStartComposer, OPEN_APP_BUTTON_TEXT } from "../../server/telegram/diary-start.js";
import { createLogger } from "../../server/logger.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { TelegramUserInput } from "../../server/diary/types.js";
import { makeUser, openTestDb, type DiaryTestDb } from "./diary-setup.js";

let t: DiaryTestDb;
let standIn: TelegramStandIn;
let bot: Bot;
const NOW = new Date("2026-11-21T12:00:00Z");
const config = { publicWebappUrl: "https://diary.example.com/app?lang=auto#top", webappVersion: undefined };

beforeAll(async () => {
  t = await openTestDb();
  standIn = await startTelegramStandIn();
  bot = createBot({
    token: standIn.token,
    apiRoot: standIn.apiRoot,
    botInfo: standIn.botInfo,
    features: [createDiaryStartComposer({ db: t.db, config, logger: t.logger, now: () => NOW })],
  });
});
afterAll(async () => {
  await standIn.close();
  await t.cleanup();
});

/** The Update's `from` for a test user. */
function fromOf(user: TelegramUserInput): User {
  return {
    id: user.id,
    is_bot: false,
    first_name: user.first_name,
    ...(user.last_name ? { last_name: user.last_name } : {}),
    ...(user.username ? { username: user.username } : {}),
    ...(user.language_code ? { language_code: user.language_code } : {}),
  };
}

interface Keyboard {
  inline_keyboard: { text: string; web_app?: { url: string } }[][];
}

function lastReply(chatId: number): { text: string; button: { text: string; web_app?: { url: string } } } {
  const call = standIn.callsTo("sendMessage").filter((c) => Number(c.params.chat_id) === chatId).at(-1);
  if (!call) throw new Error(`no sendMessage to ${chatId}`);
  const markup = (typeof call.params.reply_markup === "string" ? JSON.parse(call.params.reply_markup) : call.params.reply_markup) as Keyboard;
  const button = markup.inline_keyboard[0]?.[0];
  if (!button) throw new Error("no button");
  return { text: String(call.params.text), button };
}

describe("/start", () => {
  it("answers with the web_app button carrying a working session token and v", async () => {
    const user = makeUser({ language_code: "ru", first_name: "Анна" });
    await bot.handleUpdate(standIn.updates.privateStart(fromOf(user)));
    const { text, button } = lastReply(user.id);
    expect(text).toContain("Здравствуйте, Анна");
    expect(button.text).toBe(OPEN_APP_BUTTON_TEXT);
    const url = new URL(button.web_app?.url ?? "");
    expect(url.origin + url.pathname).toBe("https://diary.example.com/app");
    expect(url.searchParams.get("lang")).toBe("auto");
    expect(url.searchParams.get("v")).toBe(String(Math.floor(NOW.getTime() / 86_400_000)));
    expect(url.hash).toBe("#top");
    const token = url.searchParams.get("session") ?? "";
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await resolveSession({ db: t.db, token }))?.user).toMatchObject({ id: user.id, first_name: "Анна" });
  });

  it("restores the same diary on a second /start with a fresh token, in English for en users", async () => {
    const user = makeUser({ language_code: "en" });
    const from = fromOf(user);
    await bot.handleUpdate(standIn.updates.privateStart(from));
    const first = new URL(lastReply(user.id).button.web_app?.url ?? "").searchParams.get("session") ?? "";
    await bot.handleUpdate(standIn.updates.privateStart(from));
    const reply = lastReply(user.id);
    const second = new URL(reply.button.web_app?.url ?? "").searchParams.get("session") ?? "";
    expect(reply.text).toMatch(/^Hello, /);
    expect(second).not.toBe(first);
    expect((await resolveSession({ db: t.db, token: first }))?.user.id).toBe(user.id);
    expect((await resolveSession({ db: t.db, token: second }))?.user.id).toBe(user.id);
  });

  it("uses WEBAPP_VERSION when set", async () => {
    const versioned = createBot({
      token: standIn.token,
      apiRoot: standIn.apiRoot,
      botInfo: standIn.botInfo,
      features: [createDiaryStartComposer({ db: t.db, config: { publicWebappUrl: "https://d.example/", webappVersion: "2025-10-29" }, logger: t.logger })],
    });
    const user = makeUser();
    await versioned.handleUpdate(standIn.updates.privateStart(fromOf(user)));
    const url = new URL(lastReply(user.id).button.web_app?.url ?? "");
    expect(url.searchParams.get("v")).toBe("2025-10-29");
  });

  it("ignores /start outside private chats", async () => {
    const before = standIn.callsTo("sendMessage").length;
    const update = standIn.updates.groupText({ chatId: -100123, text: "/start" });
    await bot.handleUpdate(update);
    expect(standIn.callsTo("sendMessage").length).toBe(before);
  });
});

describe("buildWebAppUrl", () => {
  it("adds session and v, keeps other parameters, replaces stale ones", () => {
    const url = new URL(buildWebAppUrl("https://x.example/?a=1&session=old&v=0", { session: "tok", version: "9" }));
    expect([...url.searchParams.entries()]).toEqual([["a", "1"], ["session", "tok"], ["v", "9"]]);
  });
});

describe("configureBotMenu", () => {
  it("sets the commands and a web_app menu button for an https URL", async () => {
    await configureBotMenu(bot.api, { publicWebappUrl: "https://diary.example.com/", webappVersion: "7" }, t.logger);
    const commands = standIn.callsTo("setMyCommands");
    expect(commands.map((c) => c.params.commands)).toContainEqual([{ command: "start", description: "Открыть дневник" }]);
    const menu = standIn.callsTo("setChatMenuButton").at(-1);
    expect(menu?.params.menu_button).toEqual({ type: "web_app", text: "Дневник", web_app: { url: "https://diary.example.com/?v=7" } });
  });

  it("skips the menu button, with a log line, for a plain-http URL", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", secrets: [], destination: { write: (line: string) => void lines.push(line) } });
    const before = standIn.callsTo("setChatMenuButton").length;
    await configureBotMenu(bot.api, { publicWebappUrl: "http://localhost:5000/", webappVersion: undefined }, logger);
    expect(standIn.callsTo("setChatMenuButton").length).toBe(before);
    expect(lines.join("")).toMatch(/not https/);
  });
});
