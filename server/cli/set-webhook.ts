// npm run telegram:webhook -- [url] [--drop-pending-updates]
//
// Registers the webhook with Telegram: the URL (given, or PUBLIC_WEBAPP_URL
// + api/telegram/webhook), TELEGRAM_WEBHOOK_SECRET as `secret_token` (which
// Telegram then sends in X-Telegram-Bot-Api-Secret-Token) and the update
// types the bot uses. Then prints getWebhookInfo so the result is visible.
// Without a secret it registers nothing: anyone who learns the URL could
// post forged agent replies into users' chats.
import { randomBytes } from "node:crypto";
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

/** A fresh secret in Telegram's alphabet for secret_token (A-Z a-z 0-9 _ -, 1..256): 256 random bits. */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString("base64url");
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
  const secret = ctx.config.webhookSecret;
  if (!secret) {
    io.err("TELEGRAM_WEBHOOK_SECRET is not set: refusing to register a webhook that anyone who learns its URL could post forged updates to.");
    io.err("Put this freshly generated secret into .env (or the environment), restart the service, and run this again:");
    io.out(`TELEGRAM_WEBHOOK_SECRET=${generateWebhookSecret()}`);
    return 1;
  }
  const url = positional[0] ?? defaultWebhookUrl(ctx.config.publicWebappUrl);
  try {
    if (!/^https:\/\//i.test(url)) io.err(`Warning: ${url} is not HTTPS; Telegram only delivers webhooks to HTTPS URLs.`);
    await ctx.api.setWebhook(url, {
      secret_token: secret,
      allowed_updates: ALLOWED_UPDATES,
      drop_pending_updates: argv.includes("--drop-pending-updates"),
    });
    io.out(`Webhook set: ${url}`);
    io.out("secret_token: set (TELEGRAM_WEBHOOK_SECRET)");
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
