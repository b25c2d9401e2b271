// Counts every Bot API call the bot makes (group posts, getFile, webhook
// set-up, polling) by how it ended. A grammY API transformer sits under
// every call of bot.api, so one hook sees them all, whoever made the call.
import type { Transformer } from "grammy";

export type TelegramCallOutcome = "ok" | "429" | "5xx" | "refused" | "network";

export type TelegramCallObserver = (method: string, outcome: TelegramCallOutcome) => void;

export function outcomeOf(answer: { ok: boolean; error_code?: number }): TelegramCallOutcome {
  if (answer.ok) return "ok";
  if (answer.error_code === 429) return "429";
  if (answer.error_code !== undefined && answer.error_code >= 500) return "5xx";
  return "refused";
}

export function countingTransformer(observe: TelegramCallObserver): Transformer {
  return async (prev, method, payload, signal) => {
    let answer;
    try {
      answer = await prev(method, payload, signal);
    } catch (error) {
      // grammY throws only when no answer came (HttpError): DNS, refused connection, timeout, abort.
      observe(method, "network");
      throw error;
    }
    observe(method, outcomeOf(answer));
    return answer;
  };
}
