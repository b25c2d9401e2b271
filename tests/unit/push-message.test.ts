import { describe, expect, it } from "vitest";
import { classifyPushError } from "../../server/push/fcm-errors.js";
import { BODY_MAX_CHARACTERS, buildPushMessages, notificationBody, truncateText } from "../../server/push/fcm-message.js";
import { tokenPrefix } from "../../server/push/fcm-push.js";
import type { ChatMessage } from "../../server/support/types.js";

const message: ChatMessage = {
  id: 7,
  userId: "u1",
  text: "Ответ",
  direction: "support",
  photoUrls: [],
  createdAt: new Date("2025-01-02T03:04:05Z"),
};

describe("push payload", () => {
  it("carries the unread count in its data and as the iOS badge when it is known", () => {
    const [withBadge] = buildPushMessages(message, ["t"], {}, { unread: 3 });
    expect(withBadge?.data?.unread).toBe("3");
    expect(withBadge?.apns?.payload?.aps).toEqual({ sound: "default", badge: 3 });
    const [zero] = buildPushMessages(message, ["t"], {}, { unread: 0 });
    expect(zero?.apns?.payload?.aps.badge).toBe(0);
    const [without] = buildPushMessages(message, ["t"]);
    expect(without?.data).not.toHaveProperty("unread");
    expect(without?.apns?.payload?.aps).not.toHaveProperty("badge");
  });

  it("keeps short text as it is and cuts long text on a word, with an ellipsis", () => {
    expect(truncateText("  коротко  ")).toBe("коротко");
    const long = "привет мир ".repeat(40);
    const cut = truncateText(long);
    expect(Array.from(cut).length).toBeLessThanOrEqual(BODY_MAX_CHARACTERS);
    expect(cut).toMatch(/(привет|мир)…$/);
  });

  it("never splits an emoji or a combined character", () => {
    const family = "👨‍👩‍👧";
    const cut = truncateText(family.repeat(300), 10);
    expect(cut).toBe(`${family.repeat(9)}…`);
    const accented = "е\u0301".repeat(50);
    expect(truncateText(accented, 5)).toBe(`${"е\u0301".repeat(4)}…`);
  });

  it("says 📷 Фото for a photo without text, and counts an album", () => {
    expect(notificationBody({ ...message, text: " ", photoUrls: ["/uploads/a.jpg"] })).toBe("📷 Фото");
    expect(notificationBody({ ...message, text: "", photoUrls: ["/a", "/b", "/c"] })).toBe("📷 Фото (3)");
    expect(notificationBody({ ...message, text: "см. фото", photoUrls: ["/a"] })).toBe("см. фото");
  });

  it("builds one message per token with string-only data", () => {
    const built = buildPushMessages(message, ["t1", "t2"]);
    expect(built.map((m) => m.token)).toEqual(["t1", "t2"]);
    for (const m of built) {
      expect(Object.values(m.data ?? {}).every((v) => typeof v === "string")).toBe(true);
      expect(m.data).toEqual({ type: "support_message", message_id: "7", user_id: "u1", direction: "support", created_at: "2025-01-02 03:04:05" });
      expect(m.android?.notification).toEqual({ sound: "default" });
    }
    expect(buildPushMessages({ ...message, direction: "user" }, ["t"])[0]?.notification?.title).toBe("Поддержка");
  });

  it("logs at most a short prefix of a token", () => {
    expect(tokenPrefix("abcdefghijklmnopqrstuvwxyz")).toBe("abcdefgh…");
    expect(tokenPrefix("short")).toBe("…");
  });
});

describe("classifyPushError", () => {
  const error = (code: string, message = "x") => Object.assign(new Error(message), { code });

  it("marks tokens FCM will never accept as invalid", () => {
    expect(classifyPushError(error("messaging/registration-token-not-registered"))).toBe("invalid");
    expect(classifyPushError(error("messaging/invalid-registration-token"))).toBe("invalid");
    expect(classifyPushError(error("messaging/invalid-argument", "The registration token is not a valid FCM registration token"))).toBe("invalid");
  });

  it("retries server, quota and network failures", () => {
    for (const code of [
      "messaging/internal-error",
      "messaging/server-unavailable",
      "messaging/unknown-error",
      "messaging/message-rate-exceeded",
      "messaging/device-message-rate-exceeded",
      "app/network-error",
      "app/network-timeout",
      "ECONNRESET",
    ]) {
      expect(classifyPushError(error(code)), code).toBe("retry");
    }
    expect(classifyPushError(new Error("socket hang up"))).toBe("retry");
  });

  it("neither deletes nor retries when the token is not to blame", () => {
    expect(classifyPushError(error("messaging/invalid-argument", "Invalid value at 'message.android.ttl'"))).toBe("drop");
    expect(classifyPushError(error("messaging/mismatched-credential"))).toBe("drop");
    expect(classifyPushError(error("messaging/third-party-auth-error"))).toBe("drop");
    expect(classifyPushError(error("messaging/payload-size-limit-exceeded"))).toBe("drop");
  });
});
