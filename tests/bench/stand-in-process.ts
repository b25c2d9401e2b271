// The Telegram Bot API stand-in in a process of its own, so its work (it
// answers every sendMessage of the floor's full-send variant) competes with
// neither the server under test nor the load generator's event loop. The
// bench drives it over the IPC channel with small commands.
import type { Update } from "grammy/types";
import { startTelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { StandInCommand, StandInReply } from "./lib/stand-in-protocol.js";

const standIn = await startTelegramStandIn();

function handle(command: StandInCommand): unknown {
  switch (command.cmd) {
    case "setDelay":
      standIn.setDelay(command.ms);
      return null;
    case "setGroupLimit":
      standIn.setGroupLimit(command.limit);
      return null;
    case "stats": {
      const sends = standIn.calls.filter((c) => c.method === "sendMessage" && c.chatId === command.chatId);
      return {
        tooManyRequests: standIn.stats.tooManyRequests,
        groupLimited: standIn.stats.groupLimited,
        sendOk: sends.filter((c) => c.ok).map((c) => c.at),
        sendRefused: sends.filter((c) => c.status === 429).length,
      };
    }
    case "replies": {
      const updates: Update[] = [];
      for (let i = 0; i < command.count; i++) {
        updates.push(standIn.updates.groupText({ chatId: command.chatId, replyTo: command.replyTo, text: `${command.prefix} ${i}` }));
      }
      return updates;
    }
    case "forget":
      // Recorded calls and the message log grow with every request of a load
      // cell; the bench reads them only through "stats".
      standIn.calls.length = 0;
      standIn.state.log.length = 0;
      return null;
  }
}

process.on("message", (raw: unknown) => {
  const command = raw as StandInCommand & { id: number };
  let reply: StandInReply;
  try {
    reply = { id: command.id, ok: true, result: handle(command) };
  } catch (error) {
    reply = { id: command.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  process.send?.(reply);
});
process.on("disconnect", () => void standIn.close().finally(() => process.exit(0)));
process.send?.({ id: 0, ok: true, result: { apiRoot: standIn.apiRoot, token: standIn.token, botId: standIn.botInfo.id } });
