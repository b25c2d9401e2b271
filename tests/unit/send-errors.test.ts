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

describe("a refusal of the message or of the chat", () => {
  test.each([
    "Bad Request: message is too long",
    "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 12",
    "Bad Request: message text is empty",
    "Bad Request: text must be non-empty",
    "Bad Request: message caption is too long",
    "Bad Request: ENTITIES_TOO_LONG",
    "Bad Request: something Telegram says tomorrow",
  ])("400 %s belongs to the message: it must not hold the queue", (description) => {
    expect(classifySendError(apiError(400, description)).kind).toBe("message_rejected");
  });

  test.each([
    "Bad Request: file is too big",
    "Bad Request: IMAGE_PROCESS_FAILED",
    "Bad Request: PHOTO_INVALID_DIMENSIONS",
    "Bad Request: wrong type of the web page content",
  ])("400 %s is about the photo: sent as a link", (description) => {
    expect(classifySendError(apiError(400, description)).kind).toBe("photo_rejected");
  });

  test.each([
    [403, "Forbidden: bot was kicked from the supergroup chat"],
    [403, "Forbidden: bot is not a member of the supergroup chat"],
    [400, "Bad Request: chat not found"],
    [400, "Bad Request: not enough rights to send text messages to the chat"],
    [400, "Bad Request: not enough rights to send photos to the chat"],
    [400, "Bad Request: CHAT_WRITE_FORBIDDEN"],
    [400, "Bad Request: have no rights to send a message"],
    [401, "Unauthorized"],
    [404, "Not Found"],
  ])("%i %s is about the chat or the bot: it holds the queue", (code, description) => {
    expect(classifySendError(apiError(code, description)).kind).toBe("chat_refused");
  });
});
