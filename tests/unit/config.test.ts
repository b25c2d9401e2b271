// SPEC §1: defaults, aliases, and one clear line naming the variable as the
// operator spelled it when a value is bad.
import { hostname } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { ConfigError, dayNumber, parseConfig } from "../../server/config/env.js";

const cwd = "/srv/app";

describe("defaults", () => {
  test("with nothing set the service runs on SQLite at :5000 with Telegram and push off", () => {
    const config = parseConfig({}, cwd);
    expect(config).toMatchObject({
      host: "0.0.0.0",
      port: 5000,
      databasePath: path.join(cwd, "data/support_bot.db"),
      uploadDir: path.join(cwd, "uploads"),
      publicWebappUrl: "http://localhost:5000/",
      telegramApiRoot: "https://api.telegram.org",
      telegramMode: "webhook",
      initDataMaxAgeSeconds: 86_400,
      trustProxy: false,
      supportReminderMinutes: 0,
    });
    expect(config.botToken).toBeUndefined();
    expect(config.groupChatId).toBeUndefined();
    expect(config.fcmServiceAccount).toBeUndefined();
  });

  test("an instance is named by INSTANCE_ID, else by its host name and pid", () => {
    expect(parseConfig({}, cwd).instanceId).toBe(`${hostname()}-${process.pid}`);
    expect(parseConfig({ INSTANCE_ID: " web-2 " }, cwd).instanceId).toBe("web-2");
  });

  test("empty values count as unset", () => {
    expect(parseConfig({ BOT_TOKEN: "", GROUP_CHAT_ID: "  ", SERVER_PORT: "" }, cwd)).toMatchObject({ botToken: undefined, groupChatId: undefined, port: 5000 });
  });

  test("the Mini App version defaults to the day number", () => {
    expect(dayNumber(Date.UTC(1970, 0, 3, 12))).toBe("2");
  });
});

describe("aliases", () => {
  test("TELEGRAM_BOT_TOKEN and PORT are accepted", () => {
    const config = parseConfig({ TELEGRAM_BOT_TOKEN: "123456:ABC-def_1", PORT: "8080" }, cwd);
    expect(config.botToken).toBe("123456:ABC-def_1");
    expect(config.botTokenVariable).toBe("TELEGRAM_BOT_TOKEN");
    expect(config.port).toBe(8080);
    expect(config.publicWebappUrl).toBe("http://localhost:8080/");
  });

  test("the canonical name wins over its alias", () => {
    expect(parseConfig({ SERVER_PORT: "7000", PORT: "8000" }, cwd).port).toBe(7000);
  });
});

describe("bad values", () => {
  test.each([
    [{ GROUP_CHAT_ID: "support-group" }, "GROUP_CHAT_ID"],
    [{ SERVER_PORT: "70000" }, "SERVER_PORT"],
    [{ PORT: "http" }, "PORT"],
    [{ BOT_TOKEN: "not a token" }, "BOT_TOKEN"],
    [{ TELEGRAM_MODE: "push" }, "TELEGRAM_MODE"],
    [{ TELEGRAM_API_ROOT: "api.telegram.org" }, "TELEGRAM_API_ROOT"],
    [{ PUBLIC_WEBAPP_URL: "diary.example.com" }, "PUBLIC_WEBAPP_URL"],
    [{ DATABASE_URL: "mysql://db/support" }, "DATABASE_URL"],
    [{ DATABASE_URL: "./data/support_bot.db" }, "DATABASE_URL"],
    [{ REDIS_URL: "localhost:6379", DATABASE_URL: "postgres://db/support" }, "REDIS_URL"],
    // Redis is for instances that share one database: a SQLite file each cannot be that.
    [{ REDIS_URL: "redis://localhost:6379" }, "REDIS_URL"],
    [{ INITDATA_MAX_AGE_SECONDS: "-5" }, "INITDATA_MAX_AGE_SECONDS"],
    [{ TELEGRAM_WEBHOOK_SECRET: "has spaces in it" }, "TELEGRAM_WEBHOOK_SECRET"],
    [{ TRUST_PROXY: "yes" }, "TRUST_PROXY"],
    [{ REDIS_KEY_PREFIX: "has spaces" }, "REDIS_KEY_PREFIX"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ RATE_LIMITS: "sometimes" }, "RATE_LIMITS"],
    [{ RATE_LIMIT_SEND_PER_USER: "30" }, "RATE_LIMIT_SEND_PER_USER"],
    [{ RATE_LIMIT_READ_PER_IP: "0/60" }, "RATE_LIMIT_READ_PER_IP"],
    [{ RATE_LIMIT_JOIN_PER_SOCKET: "10/0" }, "RATE_LIMIT_JOIN_PER_SOCKET"],
    [{ RATE_LIMIT_DIARY_PER_USER: "ten/60" }, "RATE_LIMIT_DIARY_PER_USER"],
    [{ SUPPORT_REMINDER_MINUTES: "1.5" }, "SUPPORT_REMINDER_MINUTES"],
    [{ SUPPORT_REMINDER_MINUTES: "-1" }, "SUPPORT_REMINDER_MINUTES"],
  ])("%o is refused naming %s", (env, variable) => {
    let caught: unknown;
    try {
      parseConfig(env, cwd);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message.startsWith(`${variable}: `)).toBe(true);
    expect(message).not.toContain("\n");
  });

  test.each([
    [{ DATABASE_URL: "postgress://support:s3cr3t-pw@db/support" }, "DATABASE_URL", "s3cr3t-pw"],
    [{ REDIS_URL: "redis//:s3cr3t-pw@cache:6379", DATABASE_URL: "postgres://db/support" }, "REDIS_URL", "s3cr3t-pw"],
    [{ BOT_TOKEN: "123456:s3cr3t token" }, "BOT_TOKEN", "s3cr3t"],
  ])("a bad credential-bearing value (%o) is refused without repeating it", (env, variable, secret) => {
    let message = "";
    try {
      parseConfig(env, cwd);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.startsWith(`${variable}: `)).toBe(true);
    expect(message).not.toContain(secret);
  });

  test("DATABASE_URL may name PostgreSQL (SPEC §8); REDIS_URL goes with it", () => {
    const config = parseConfig({ DATABASE_URL: "postgresql://support:s3cret@db:5432/support", REDIS_URL: "redis://cache:6379/0" }, cwd);
    expect(config).toMatchObject({ databaseEngine: "postgres", databasePath: null, databaseUrl: "postgresql://support:s3cret@db:5432/support", redisUrl: "redis://cache:6379/0" });
    expect(parseConfig({}, cwd)).toMatchObject({ databaseEngine: "sqlite", redisUrl: null, redisKeyPrefix: "" });
    expect(parseConfig({ REDIS_KEY_PREFIX: "staging:" }, cwd).redisKeyPrefix).toBe("staging:");
  });

  test("a group chat id may be a supergroup id or a public @username", () => {
    expect(parseConfig({ GROUP_CHAT_ID: "-1001234567890" }, cwd).groupChatId).toBe("-1001234567890");
    expect(parseConfig({ GROUP_CHAT_ID: "@support_team" }, cwd).groupChatId).toBe("@support_team");
  });
});

// The defaults themselves are held to README.md in documented-config.test.ts.
describe("rate limits", () => {
  test("points/seconds or off for each limit; a new send window keeps its burst", () => {
    const limits = parseConfig({ RATE_LIMIT_SEND_PER_USER: "5/10", RATE_LIMIT_READ_PER_IP: "off", RATE_LIMIT_JOIN_PER_SOCKET: " 3 / 30 ", RATE_LIMIT_DIARY_PER_USER: "OFF" }, cwd).rateLimits;
    expect(limits.perUser.send).toEqual({ points: 5, windowSeconds: 10, burstPoints: 10, burstWindowSeconds: 600 });
    expect(limits.perIp.read).toBeNull();
    expect(limits.perSocket.join).toEqual({ points: 3, windowSeconds: 30 });
    expect(limits.perUser.diary).toBeNull();
    expect(limits.perIp.send).toEqual({ points: 300, windowSeconds: 60 });
  });

  test("the send burst is set or turned off on its own", () => {
    expect(parseConfig({ RATE_LIMIT_SEND_BURST_PER_USER: "off" }, cwd).rateLimits.perUser.send).toEqual({ points: 30, windowSeconds: 60 });
    expect(parseConfig({ RATE_LIMIT_SEND_BURST_PER_USER: "50/3600" }, cwd).rateLimits.perUser.send).toEqual({ points: 30, windowSeconds: 60, burstPoints: 50, burstWindowSeconds: 3600 });
    expect(parseConfig({ RATE_LIMIT_SEND_PER_USER: "off", RATE_LIMIT_SEND_BURST_PER_USER: "50/3600" }, cwd).rateLimits.perUser.send).toBeNull();
  });

  test("RATE_LIMITS=off turns every limit off, whatever the others say", () => {
    const limits = parseConfig({ RATE_LIMITS: "off", RATE_LIMIT_SEND_PER_USER: "1/60" }, cwd).rateLimits;
    const all = [...Object.values(limits.perUser), ...Object.values(limits.perIp), ...Object.values(limits.perSocket)];
    expect(all.length).toBeGreaterThan(10);
    expect(all.every((rule) => rule === null)).toBe(true);
    expect(parseConfig({ RATE_LIMITS: "on" }, cwd).rateLimits.perUser.send).not.toBeNull();
  });
});

test("USER_HASH_SECRET is optional and read as given", () => {
  expect(parseConfig({}, cwd).userHashSecret).toBeUndefined();
  expect(parseConfig({ USER_HASH_SECRET: " s3cret-value " }, cwd).userHashSecret).toBe("s3cret-value");
});
