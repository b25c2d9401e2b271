// npm run telegram:group-id -- [--wait <seconds>] [--delete-webhook]
//
// The seed's get_group_id.py: shows the id of every chat the bot has heard
// from, so GROUP_CHAT_ID can be filled in. It reads pending updates with
// getUpdates and does not confirm them (no offset), so the service still
// receives them afterwards.
//
// Telegram refuses getUpdates while a webhook is set. Removing the webhook
// is left to an explicit --delete-webhook: while it is off, a running
// service receives nothing, and only the secret in TELEGRAM_WEBHOOK_SECRET
// can be put back (Telegram never reveals the one it holds). With the flag
// the webhook is deleted, the updates are read, and it is set again with
// the same URL and allowed_updates.
import type { Chat, Update } from "grammy/types";
import type { Config } from "../config/env.js";
import { consoleIo, describeTelegramError, openTelegram, runIfMain, type CliIo } from "./telegram-cli.js";

export interface GroupIdOptions {
  argv: readonly string[];
  config?: Config;
  io?: CliIo;
}

const USAGE = `Usage: npm run telegram:group-id -- [--wait <seconds>] [--delete-webhook]

  --wait <seconds>   wait this long for a message to arrive (default 20)
  --delete-webhook   remove the webhook while reading updates, then set it again`;

// Updates that reveal a chat: a message, the bot being added, a channel post.
const REVEALING = ["message", "my_chat_member", "channel_post"] as const;

function chatOf(update: Update): Chat | undefined {
  return update.message?.chat ?? update.my_chat_member?.chat ?? update.channel_post?.chat ?? update.edited_message?.chat;
}

function parseArgs(argv: readonly string[]): { wait: number; deleteWebhook: boolean } | string {
  let wait = 20;
  let deleteWebhook = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--delete-webhook") deleteWebhook = true;
    else if (arg === "--wait") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0 || value > 50) return "--wait needs a whole number of seconds between 0 and 50";
      wait = value;
    } else return `unknown argument ${arg ?? ""}`;
  }
  return { wait, deleteWebhook };
}

export async function runGroupId({ argv, config, io = consoleIo }: GroupIdOptions): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === "string") {
    io.err(`${args}\n\n${USAGE}`);
    return 2;
  }
  const ctx = openTelegram(config, io);
  if (!ctx) return 1;
  const { api } = ctx;
  try {
    const me = await api.getMe();
    io.out(`Bot: @${me.username}`);
    io.out("1. Add the bot to your support group.");
    io.out(`2. Send a message in the group that the bot can see: with privacy mode on (the default) that is a command such as /start@${me.username}, or a reply to the bot.`);
    const webhook = await api.getWebhookInfo();
    if (webhook.url && !args.deleteWebhook) {
      io.err(`A webhook is set (${webhook.url}), and Telegram does not hand out updates through getUpdates while it is.`);
      io.err("Run again with --delete-webhook: the webhook is removed while reading and set back right after (with TELEGRAM_WEBHOOK_SECRET).");
      return 2;
    }
    if (webhook.url) await api.deleteWebhook({ drop_pending_updates: false });
    let updates: Update[];
    try {
      if (args.wait > 0) io.out(`Waiting up to ${args.wait} s for a message…`);
      updates = await api.getUpdates({ timeout: args.wait, allowed_updates: REVEALING });
    } finally {
      if (webhook.url) {
        await api.setWebhook(webhook.url, { secret_token: ctx.config.webhookSecret, allowed_updates: webhook.allowed_updates });
        io.out(`Webhook set back to ${webhook.url}.`);
      }
    }
    const chats = new Map<number, Chat>();
    for (const update of updates) {
      const chat = chatOf(update);
      if (chat) chats.set(chat.id, chat);
    }
    if (chats.size === 0) {
      io.out("No chats yet. Send a message in the group as described above and run this again.");
      return 1;
    }
    io.out("Chats the bot has heard from:");
    for (const chat of chats.values()) {
      const name = chat.type === "private" ? [chat.first_name, chat.last_name].filter(Boolean).join(" ") : chat.title;
      io.out(`  ${String(chat.id).padEnd(16)} ${chat.type.padEnd(10)} ${name ?? ""}`);
    }
    const group = [...chats.values()].find((c) => c.type === "supergroup" || c.type === "group");
    if (group) io.out(`\nPut this into .env:\nGROUP_CHAT_ID=${group.id}`);
    return 0;
  } catch (error) {
    io.err(describeTelegramError(error, ctx.config));
    return 1;
  }
}

runIfMain(import.meta.url, () => runGroupId({ argv: process.argv.slice(2) }));
