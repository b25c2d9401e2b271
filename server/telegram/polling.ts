// TELEGRAM_MODE=polling: for local development without a public URL. The
// bot asks Telegram for updates (getUpdates long polling) instead of
// receiving them on the webhook route.
//
// grammY's bot.start() removes the webhook first (Telegram refuses
// getUpdates while one is set) without dropping pending updates, so
// nothing sent while the service was down is lost. Unlike the webhook, a
// failed update cannot be handed back to Telegram: grammY has already
// confirmed the batch, so failures are logged and polling goes on (without
// an error handler grammY would stop polling at the first one).
import { type Bot, type BotError, GrammyError } from "grammy";
import type { Logger } from "../logger.js";
import { ALLOWED_UPDATES } from "./allowed-updates.js";

export interface Polling {
  /** resolves once the current getUpdates is cancelled and the batch in hand is handled */
  stop(): Promise<void>;
  /** settles when polling ends: resolves after stop(), rejects if Telegram refused (bad token, another poller) */
  readonly done: Promise<void>;
}

export interface StartPollingOptions {
  bot: Bot;
  logger: Logger;
}

export function startPolling({ bot, logger }: StartPollingOptions): Polling {
  bot.catch((error: BotError) => {
    logger.error({ err: error.error, updateId: error.ctx.update.update_id }, "Telegram update failed (polling: it will not be redelivered)");
  });
  const done = bot
    .start({
      drop_pending_updates: false,
      allowed_updates: ALLOWED_UPDATES,
      onStart: (me) => logger.info({ bot: me.username }, "Telegram long polling started (TELEGRAM_MODE=polling)"),
    })
    .catch((error: unknown) => {
      if (error instanceof GrammyError && error.error_code === 401) {
        logger.error("Telegram refused the bot token (401 Unauthorized): check BOT_TOKEN; polling stopped");
      } else if (error instanceof GrammyError && error.error_code === 409) {
        logger.error("another process is polling or a webhook was set again (409 Conflict); polling stopped");
      } else {
        logger.error({ err: error }, "Telegram long polling stopped");
      }
      throw error;
    });
  // A caller that only ever calls stop() must not see an unhandled rejection.
  done.catch(() => undefined);
  return {
    done,
    async stop() {
      if (bot.isRunning()) await bot.stop();
      await done.catch(() => undefined);
    },
  };
}
