// Topic mode's small rules: the topic's name, which refusals are about the
// topic, and the SUPPORT_TOPICS switch.
import { GrammyError } from "grammy";
import { describe, expect, test } from "vitest";
import { ConfigError, parseConfig } from "../../server/config/env.js";
import { classifySendError } from "../../server/telegram/send-errors.js";
import { TOPIC_NAME_MAX, topicName } from "../../server/telegram/topics.js";

const apiError = (description: string) => new GrammyError(`Call failed (400: ${description})`, { ok: false, error_code: 400, description }, "sendMessage", {});

describe("topicName", () => {
  test("`<user_name> · <user_id>`, or Пользователь without a name", () => {
    expect(topicName("Анна", "u-1")).toBe("Анна · u-1");
    expect(topicName(null, "u-1")).toBe("Пользователь · u-1");
    expect(topicName("   ", "u-1")).toBe("Пользователь · u-1");
    expect(topicName("Анна\nКарла", "u-1")).toBe("Анна Карла · u-1");
  });

  test("a long name is cut to Telegram's 128, the name first and the id kept whole", () => {
    const id = "user-" + "9".repeat(40);
    const name = topicName("Б".repeat(300), id);
    expect(name).toHaveLength(TOPIC_NAME_MAX);
    expect(name.endsWith(`… · ${id}`)).toBe(true);
    expect(topicName("x".repeat(128 - ` · ${id}`.length), id)).toHaveLength(128);
  });

  test("a cut never leaves half of an emoji", () => {
    const name = topicName("😀".repeat(100), "u-1");
    expect(name.length).toBeLessThanOrEqual(TOPIC_NAME_MAX);
    expect(name).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe("a topic's refusals", () => {
  test("a deleted topic, in the Bot API's words and tdlib's", () => {
    expect(classifySendError(apiError("Bad Request: message thread not found")).kind).toBe("topic_gone");
    expect(classifySendError(apiError("Bad Request: TOPIC_DELETED")).kind).toBe("topic_gone");
    expect(classifySendError(apiError("Bad Request: TOPIC_ID_INVALID")).kind).toBe("topic_gone");
  });

  test("a closed topic", () => {
    expect(classifySendError(apiError("Bad Request: TOPIC_CLOSED")).kind).toBe("topic_closed");
  });
});

describe("SUPPORT_TOPICS", () => {
  test("off by default; on or off, anything else names the variable", () => {
    expect(parseConfig({}, "/tmp").supportTopics).toBe(false);
    expect(parseConfig({ SUPPORT_TOPICS: "on" }, "/tmp").supportTopics).toBe(true);
    expect(parseConfig({ SUPPORT_TOPICS: "off" }, "/tmp").supportTopics).toBe(false);
    expect(() => parseConfig({ SUPPORT_TOPICS: "yes" }, "/tmp")).toThrow(ConfigError);
    expect(() => parseConfig({ SUPPORT_TOPICS: "yes" }, "/tmp")).toThrow(/SUPPORT_TOPICS/);
  });
});
