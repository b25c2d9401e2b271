// What a failed Bot API call means for the outbox.
import { GrammyError, HttpError } from "grammy";
import { describe, expect, test } from "vitest";
import { classifySendError, PhotoUnavailableError } from "../../server/telegram/send-errors.js";

const apiError = (error_code: number, description: string, parameters = {}) =>
  new GrammyError(`Call failed (${error_code}: ${description})`, { ok: false, error_code, description, parameters }, "sendMessage", {});

describe("classifySendError", () => {
  test("429 waits as long as Telegram says", () => {
    expect(classifySendError(apiError(429, "Too Many Requests: retry after 17", { retry_after: 17 }))).toMatchObject({ kind: "rate_limited", retryAfterSeconds: 17 });
  });

  test("5xx and network failures are retried", () => {
    expect(classifySendError(apiError(502, "Bad Gateway")).kind).toBe("transient");
    expect(classifySendError(new HttpError("Network request failed", new Error("ECONNRESET"))).kind).toBe("transient");
  });

  test("a photo Telegram cannot use falls back to a link", () => {
    expect(classifySendError(apiError(400, "Bad Request: wrong file identifier/HTTP URL specified")).kind).toBe("photo_rejected");
    expect(classifySendError(apiError(400, "Bad Request: failed to get HTTP URL content")).kind).toBe("photo_rejected");
    expect(classifySendError(new PhotoUnavailableError("gone")).kind).toBe("photo_rejected");
  });

  test("refusals an operator must fix say what to do", () => {
    expect(classifySendError(apiError(403, "Forbidden: bot was kicked from the supergroup chat")).kind).toBe("chat_refused");
    const moved = classifySendError(apiError(400, "Bad Request: group chat was upgraded to a supergroup chat", { migrate_to_chat_id: -1001999 }));
    expect(moved).toMatchObject({ kind: "chat_refused" });
    expect(moved.description).toContain("set GROUP_CHAT_ID=-1001999");
  });
});
