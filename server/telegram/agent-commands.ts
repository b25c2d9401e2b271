// Agents' commands in the support group (SPEC §7): /info, /history [n],
// /close, /ban [reason], /unban, /delete. Accepted from people only (a bot
// in the group is ignored); the command menu Telegram shows administrators
// is a convenience, not access control: any person in the support group is
// an agent, as anyone there can already answer users. In reply mode a
// command is sent as a reply to one of the user's posts. Answers go back as
// a reply, plain text.
//
// Answers go through the group's budget (server/outbox/group-budget.ts)
// when one is given: after users' posts, before reactions. An agent waits
// for them, so they wait their turn rather than being dropped.
import { Composer, type Context } from "grammy";
import type { Message } from "grammy/types";
import type { Logger } from "../logger.js";
import { HISTORY_DEFAULT, HISTORY_MAX, type ConversationService } from "../support/conversation-service.js";
import * as texts from "./agent-command-texts.js";
import { isFromPerson, type SupportGroupTest, type UserResolver } from "./group-messages.js";
import { answerTarget, targetOptions, type GroupTarget } from "./group-target.js";

/** The menu Telegram shows the group's administrators (setMyCommands). */
export const AGENT_COMMAND_MENU = [
  { command: "info", description: "Кто это: устройства, push, сообщения, статус" },
  { command: "history", description: "Последние сообщения пользователя: /history [n]" },
  { command: "close", description: "Закрыть разговор (вопрос решён)" },
  { command: "ban", description: "Заблокировать пользователя: /ban [причина]" },
  { command: "unban", description: "Разблокировать пользователя" },
  { command: "delete", description: "Убрать свой ответ из истории в приложении" },
] as const;

type AgentCommand = (typeof AGENT_COMMAND_MENU)[number]["command"];
const COMMANDS = AGENT_COMMAND_MENU.map((c) => c.command);

export type Conversations = Pick<ConversationService, "info" | "history" | "close" | "ban" | "unban" | "deleteReply">;

export interface AgentCommandsDeps {
  /** whether a chat is the support group (GROUP_CHAT_ID, resolved) */
  isSupportGroup: SupportGroupTest;
  /** which app user a group message is about */
  resolveUser: UserResolver;
  conversations: Conversations;
  /** topic mode: closes the user's topic in Telegram (/close); best-effort */
  closeTopic?(userId: string): Promise<void>;
  logger: Logger;
  /** posts an answer into the group (through the group's budget); default: straight through the bot */
  answer?(chatId: number, target: GroupTarget, text: string): Promise<unknown>;
}

/** `/history 20` → 20; absent → the default; anything else → null (answered with the usage). */
export function historyCount(argument: string): number | null {
  const arg = argument.trim();
  if (arg === "") return HISTORY_DEFAULT;
  if (!/^\d{1,6}$/.test(arg)) return null;
  const n = Number(arg);
  return n < 1 ? null : Math.min(HISTORY_MAX, n);
}

export function createAgentCommands(deps: AgentCommandsDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const group = composer.filter((ctx) => ctx.message !== undefined && deps.isSupportGroup(ctx.message.chat));

  group.command(COMMANDS, async (ctx) => {
    const message = ctx.message as Message;
    const command = (ctx.entities("bot_command")[0]?.text.slice(1).split("@")[0] ?? "").toLowerCase() as AgentCommand;
    const where = { chatId: message.chat.id, telegramMessageId: message.message_id, command };
    // Not passed on either: a command never becomes a support message.
    if (!isFromPerson(message)) {
      deps.logger.info({ ...where, from: message.from?.id }, "agent command from a bot ignored");
      return;
    }
    const target = answerTarget(message);
    const answer = (text: string) => (deps.answer ? deps.answer(message.chat.id, target, text) : ctx.reply(text, targetOptions(target)));

    if (command === "delete") {
      const target = message.reply_to_message;
      if (!target) return void (await answer(texts.usageText("delete")));
      const deleted = await deps.conversations.deleteReply({ chatId: message.chat.id, telegramMessageId: target.message_id });
      deps.logger.info({ ...where, messageId: deleted?.id, userId: deleted?.userId }, deleted ? "agent deleted a support message" : "/delete on a message that is no support message");
      return void (await answer(deleted ? texts.deletedText : texts.notDeletableText));
    }

    const userId = await deps.resolveUser(message, ctx.me.id);
    if (!userId) return void (await answer(command === "history" ? texts.historyUsageText() : texts.usageText(command)));
    const argument = typeof ctx.match === "string" ? ctx.match : "";
    deps.logger.info({ ...where, userId }, "agent command");
    switch (command) {
      case "info":
        await answer(texts.infoText(await deps.conversations.info(userId)));
        return;
      case "history": {
        const count = historyCount(argument);
        if (count === null) return void (await answer(texts.historyUsageText()));
        for (const text of texts.historyTexts(userId, await deps.conversations.history(userId, count))) await answer(text);
        return;
      }
      case "close":
        await deps.conversations.close(userId);
        // Answered first: a closed topic refuses new messages (TOPIC_CLOSED).
        await answer(texts.closedText);
        await deps.closeTopic?.(userId);
        return;
      case "ban": {
        const reason = argument.trim().slice(0, 500) || null;
        await deps.conversations.ban(userId, reason);
        await answer(texts.bannedText(userId, reason));
        return;
      }
      case "unban":
        await answer(texts.unbannedText(userId, await deps.conversations.unban(userId)));
        return;
    }
  });
  return composer;
}
