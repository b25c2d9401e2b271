// /start of the Speaking Diary (SPEC §4, seed 2): creates or restores the
// user's diary session and answers with the button that opens the Mini App
// with that session in its URL.
import { Composer, type Api, type Context } from "grammy";
import type { Config } from "../config/env.js";
import { dayNumber } from "../config/env.js";
import type { Db } from "../db/database.js";
import { startSession } from "../diary/sessions.js";
import type { Logger } from "../logger.js";
import { AGENT_COMMAND_MENU } from "./agent-commands.js";

export interface DiaryStartDeps {
  db: Db;
  config: Pick<Config, "publicWebappUrl" | "webappVersion">;
  logger: Logger;
  now?: () => Date;
}

/** The seed's button label; kept in every language, clients look for it. */
export const OPEN_APP_BUTTON_TEXT = "Открыть приложение";

/** WEBAPP_VERSION, or the day number so Telegram's WebView cache turns over daily. */
export function webAppVersion(config: Pick<Config, "webappVersion">, now = new Date()): string {
  return config.webappVersion ?? dayNumber(now.getTime());
}

/** PUBLIC_WEBAPP_URL with `session` and `v` set; its own query and hash are kept. */
export function buildWebAppUrl(base: string, params: { session?: string; version: string }): string {
  const url = new URL(base);
  if (params.session !== undefined) url.searchParams.set("session", params.session);
  url.searchParams.set("v", params.version);
  return url.toString();
}

const RUSSIAN_LIKE = new Set(["ru", "uk", "be", "kk"]);

function isRussian(languageCode: string | undefined): boolean {
  if (!languageCode) return true;
  return RUSSIAN_LIKE.has(languageCode.toLowerCase().split("-")[0] ?? "");
}

function greeting(firstName: string, russian: boolean): string {
  return russian
    ? `Здравствуйте, ${firstName}! Это ваш Speaking Diary. Нажмите «${OPEN_APP_BUTTON_TEXT}», чтобы писать и читать свои заметки: их видите только вы.`
    : `Hello, ${firstName}! This is your Speaking Diary. Tap “${OPEN_APP_BUTTON_TEXT}” (Open the app) to write and read your notes; only you can see them.`;
}

export function createDiaryStartComposer(deps: DiaryStartDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.chatType("private").command("start", async (ctx) => {
    const from = ctx.from;
    const now = deps.now?.() ?? new Date();
    const { token } = await startSession({ db: deps.db, user: from, now });
    const url = buildWebAppUrl(deps.config.publicWebappUrl, { session: token, version: webAppVersion(deps.config, now) });
    // Plain text (no parse_mode): the user's first name is shown literally.
    await ctx.reply(greeting(from.first_name, isRussian(from.language_code)), {
      reply_markup: { inline_keyboard: [[{ text: OPEN_APP_BUTTON_TEXT, web_app: { url } }]] },
    });
    deps.logger.info({ userId: from.id }, "diary session started from /start");
  });
  return composer;
}

/**
 * Sets the bot's command lists and its chat menu button, so the Mini App is
 * one tap away. Telegram accepts only https URLs for web_app buttons, so the
 * menu button is skipped (with a log line) for a plain-http development URL.
 * The support group's administrators get the agents' commands (SPEC §7);
 * Telegram then shows them that list in the group instead of /start.
 */
export async function configureBotMenu(
  api: Api,
  config: Pick<Config, "publicWebappUrl" | "webappVersion"> & Partial<Pick<Config, "groupChatId">>,
  logger: Logger,
): Promise<void> {
  await api.setMyCommands([{ command: "start", description: "Открыть дневник" }]);
  await api.setMyCommands([{ command: "start", description: "Open the diary" }], { language_code: "en" });
  if (config.groupChatId) {
    await api.setMyCommands([...AGENT_COMMAND_MENU], { scope: { type: "chat_administrators", chat_id: config.groupChatId } });
  }
  if (new URL(config.publicWebappUrl).protocol !== "https:") {
    logger.info({ url: config.publicWebappUrl }, "PUBLIC_WEBAPP_URL is not https; the bot's menu button is left as it is");
    return;
  }
  // No session in this URL: it is the same for every user, so the Mini App
  // signs in with its initData instead.
  const url = buildWebAppUrl(config.publicWebappUrl, { version: webAppVersion(config) });
  await api.setChatMenuButton({ menu_button: { type: "web_app", text: "Дневник", web_app: { url } } });
}
