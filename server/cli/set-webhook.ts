// npm run telegram:webhook -- [url] [--drop-pending-updates]
//
// Registers the webhook with Telegram: the URL (given, or PUBLIC_WEBAPP_URL
// + api/telegram/webhook), TELEGRAM_WEBHOOK_SECRET as `secret_token` (which
// Telegram then sends in X-Telegram-Bot-Api-Secret-Token) and the update
// types the bot uses. Then prints getWebhookInfo so the result is visible.
import type { Config } from "../config/env.js";
import { ALLOWED_UPDATES } from "../telegram/allowed-updates.js";
import { consoleIo, describeTelegramError, openTelegram, runIfMain, type CliIo } from "./telegram-cli.js";

const USAGE = `Usage: npm run telegram:webhook -- [url] [--drop-pending-updates]

Registers this service's webhook with Telegram and shows getWebhookInfo.
  url                     default: PUBLIC_WEBAPP_URL + api/telegram/webhook
  --drop-pending-updates  discard updates Telegram is still holding`;

export interface SetWebhookOptions {
  argv: readonly string[];
  config?: Config;
  io?: CliIo;
}

export function defaultWebhookUrl(publicWebappUrl: string): string {
  const base = new URL(publicWebappUrl);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  base.search = "";
  base.hash = "";
  return new URL("api/telegram/webhook", base).toString();
}

export async function runSetWebhook({ argv, config, io = consoleIo }: SetWebhookOptions): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a.startsWith("-") && a !== "--drop-pending-updates");
  const positional = argv.filter((a) => !a.startsWith("-"));
  if (unknown.length > 0 || positional.length > 1) {
    io.err(`Unknown arguments: ${[...unknown, ...positional.slice(1)].join(" ")}\n\n${USAGE}`);
    return 2;
  }
  const ctx = openTelegram(config, io);
  if (!ctx) return 1;
  const url = positional[0] ?? defaultWebhookUrl(ctx.config.publicWebappUrl);
  try {
    if (!/^https:\/\//i.test(url)) io.err(`Warning: ${url} is not HTTPS; Telegram only delivers webhooks to HTTPS URLs.`);
    if (!ctx.config.webhookSecret) {
      io.err("Warning: TELEGRAM_WEBHOOK_SECRET is not set, so anyone who knows the URL can post fake updates. Set it and run this again.");
    }
    await ctx.api.setWebhook(url, {
      secret_token: ctx.config.webhookSecret,
      allowed_updates: ALLOWED_UPDATES,
      drop_pending_updates: argv.includes("--drop-pending-updates"),
    });
    io.out(`Webhook set: ${url}`);
    io.out(`secret_token: ${ctx.config.webhookSecret ? "set (TELEGRAM_WEBHOOK_SECRET)" : "none"}`);
    io.out(`allowed_updates: ${ALLOWED_UPDATES.join(", ")}`);
    const info = await ctx.api.getWebhookInfo();
    io.out("getWebhookInfo:");
    io.out(JSON.stringify(info, null, 2));
    if (info.last_error_message) io.err(`Telegram reports a delivery error: ${info.last_error_message}`);
    return 0;
  } catch (error) {
    io.err(describeTelegramError(error, ctx.config));
    return 1;
  }
}

runIfMain(import.meta.url, () => runSetWebhook({ argv: process.argv.slice(2) }));
