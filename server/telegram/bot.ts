// The one grammY Bot of the process. Features are Composers installed here;
// outgoing group posts go through the outbox (server/outbox), not through
// handlers.
import { Bot, type Composer, type Context } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import { countingTransformer, type TelegramCallObserver } from "./call-counter.js";

export interface CreateBotOptions {
  token: string;
  apiRoot: string;
  /** known bot identity: skips getMe (tests, and webhook cold starts) */
  botInfo?: UserFromGetMe;
  features: Composer<Context>[];
  /** told how every Bot API call ended (metrics) */
  observeCall?: TelegramCallObserver;
}

export function createBot({ token, apiRoot, botInfo, features, observeCall }: CreateBotOptions): Bot {
  const bot = new Bot(token, { botInfo, client: { apiRoot } });
  if (observeCall) bot.api.config.use(countingTransformer(observeCall));
  for (const feature of features) bot.use(feature);
  return bot;
}
