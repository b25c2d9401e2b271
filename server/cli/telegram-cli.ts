// Shared by the Telegram helper commands (set-webhook, group-id): config
// loading that ends in one readable line, a Bot API client, and error
// messages a person can act on. The token never reaches the terminal.
import { pathToFileURL } from "node:url";
import { Api, GrammyError, HttpError } from "grammy";
import { ConfigError, loadConfig, type Config } from "../config/env.js";
import { scrubSecrets } from "../logger.js";

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const consoleIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export class CliFailure extends Error {}

export interface CliContext {
  config: Config;
  api: Api;
}

/**
 * Config plus an API client, or null after saying in one line on `io.err`
 * why that is impossible (bad configuration, no token).
 */
export function openTelegram(config: Config | undefined, io: CliIo): CliContext | null {
  try {
    let loaded: Config;
    try {
      loaded = config ?? loadConfig();
    } catch (error) {
      if (error instanceof ConfigError) throw new CliFailure(`Configuration error: ${error.message}`);
      throw error;
    }
    if (!loaded.botToken) {
      throw new CliFailure("BOT_TOKEN is not set: put the token @BotFather gave you into .env (BOT_TOKEN=123456:ABC…) or the environment.");
    }
    return { config: loaded, api: new Api(loaded.botToken, { apiRoot: loaded.telegramApiRoot }) };
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return null;
  }
}

/** What went wrong talking to Telegram, in words, with the token scrubbed. */
export function describeTelegramError(error: unknown, config: Config): string {
  const secrets = [config.botToken, config.webhookSecret].filter((s): s is string => Boolean(s));
  let text: string;
  if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) {
    text = `Telegram does not accept the bot token in ${config.botTokenVariable} (${error.error_code} ${error.description}). Copy it again from @BotFather.`;
  } else if (error instanceof GrammyError) {
    text = `Telegram refused ${error.method}: ${error.description}`;
  } else if (error instanceof HttpError) {
    text = `Cannot reach the Telegram Bot API at ${config.telegramApiRoot} (${String((error.error as Error)?.message ?? error.message)}). Check the network or TELEGRAM_API_ROOT.`;
  } else if (error instanceof CliFailure) {
    text = error.message;
  } else {
    text = `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
  }
  // grammY's network errors quote the request URL, which holds the token
  return scrubSecrets(text, secrets).replace(/\/bot[^/\s]+\//g, "/bot[redacted]/");
}

/** Runs `main` when the file is the process entry (tsx server/cli/x.ts); exits with its code. */
export function runIfMain(moduleUrl: string, main: () => Promise<number>): void {
  const entry = process.argv[1];
  if (!entry || pathToFileURL(entry).href !== moduleUrl) return;
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
