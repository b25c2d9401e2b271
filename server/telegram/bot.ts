// The one grammY Bot of the process. Features are Composers installed here;
// outgoing group posts go through the outbox (server/outbox), not through
// handlers.
import { Bot, type Composer, type Context } from "grammy";
import type { UserFromGetMe } from "grammy/types";

export interface CreateBotOptions {
  token: string;
  apiRoot: string;
  /** known bot identity: skips getMe (tests, and webhook cold starts) */
  botInfo?: UserFromGetMe;
  features: Composer<Context>[];
}

export function createBot({ token, apiRoot, botInfo, features }: CreateBotOptions): Bot {
  const bot = new Bot(token, { botInfo, client: { apiRoot } });
  for (const feature of features) bot.use(feature);
  return bot;
}
