// initData validation against vectors published by other implementations
// (telegram-apps/init-data-node and aiogram), then our own bad paths.
import { describe, expect, it } from "vitest";
import {
  signDataCheckString,
  signInitData,
  validateInitData,
  verifyInitDataSignature,
} from "../../server/diary/init-data.js";
import { isAppError } from "../../server/errors.js";

function unauthorizedMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isAppError(error) && error.code === "UNAUTHORIZED") return error.message;
    throw error;
  }
  throw new Error("expected UNAUTHORIZED");
}

const DAY = 86_400;

// --- telegram-apps (Telegram-Mini-Apps/telegram-apps, packages/init-data-node,
// src/validation.test.ts): synthetic launch data with chat, receiver and user.
const TA_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
const TA_RAW =
  "auth_date=1&can_send_after=10000&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22title%22%3A%22chat-title%22%2C%22photo_url%22%3A%22group%22%2C%22username%22%3A%22my-chat%22%7D&chat_instance=888&chat_type=sender&hash=47cfa22e72b887cba90c9cb833c5ea0f599975b6ce7193741844b5c4a4228b40&query_id=QUERY&receiver=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C%22first_name%22%3A%22receiver-first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C%22is_premium%22%3Atrue%2C%22language_code%22%3A%22ru%22%2C%22last_name%22%3A%22receiver-last-name%22%2C%22photo_url%22%3A%22receiver-photo%22%2C%22username%22%3A%22receiver-username%22%7D&start_param=debug&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse%2C%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A%22user-last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A%22user-username%22%7D";

// --- telegram-apps (same package, web validation test): real launch data
// captured from Telegram, with the newer `signature` field and a first name
// full of characters that need escaping ("Vladislav + - ? \/").
const TA_REAL_TOKEN = "7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ";
const TA_REAL_RAW =
  "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6";
const TA_REAL_AUTH = 1733584787;

// --- telegram-apps sign() expectation: `signature=abc` is part of the signed string.
const TA_SIGNED_WITH_SIGNATURE =
  "can_send_after=10000&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22username%22%3A%22my-chat%22%2C%22title%22%3A%22chat-title%22%2C%22photo_url%22%3A%22chat-photo%22%7D&chat_instance=888&chat_type=sender&query_id=QUERY&receiver=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C%22first_name%22%3A%22receiver-first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C%22is_premium%22%3Atrue%2C%22language_code%22%3A%22ru%22%2C%22last_name%22%3A%22receiver-last-name%22%2C%22photo_url%22%3A%22receiver-photo%22%2C%22username%22%3A%22receiver-username%22%7D&start_param=debug&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse%2C%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A%22user-last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A%22user-username%22%7D&signature=abc&auth_date=1&hash=cb81cd88e9cc232953c788ebbce5c53d4100b11672af19165a5d24f45dae46be";

// --- aiogram (aiogram/aiogram, tests/test_utils/test_web_app.py).
const AIOGRAM_TOKEN = "42:TEST";
const AIOGRAM_RAW =
  "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803";
const AIOGRAM_PLUS_RAW =
  "auth_date=1650385342&user=%7B%22id%22%3A+%22123456789%22%2C+%22first_name%22%3A+%22PlaceholderFirstName%22%2C+%22last_name%22%3A+%22PlaceholderLastName+%5Cud83c%5Cuddfa%5Cud83c%5Cudde6%22%2C+%22username%22%3A+%22Latand%22%2C+%22language_code%22%3A+%22en%22%2C+%22is_premium%22%3A+%22true%22%2C+%22allows_write_to_pm%22%3A+%22true%22%7D&query_id=test&hash=b3c8b293f14ad0f7f0abcf769aea1209a72295d30a87eb0e74df855d32e53bfe";
const AIOGRAM_AUTH = 1650385342;

describe("published vectors", () => {
  it("derives the key as HMAC_SHA256('WebAppData', token) (telegram-apps signData vector)", () => {
    expect(signDataCheckString("abc", "my-secret-token")).toBe("6ecc2e9b51f30dde6877ce374ede54eb626c84e78a5d9a9dcac54d2d248f6bde");
  });

  it("accepts telegram-apps' launch data and reads its user", () => {
    const result = validateInitData(TA_RAW, { botToken: TA_TOKEN, maxAgeSeconds: DAY, now: new Date(60_000) });
    expect(result.user).toEqual({ id: 222, first_name: "user-first-name", last_name: "user-last-name", username: "user-username", language_code: "en" });
    expect(result.authDate.toISOString()).toBe("1970-01-01T00:00:01.000Z");
    expect(result.queryId).toBe("QUERY");
    expect(result.startParam).toBe("debug");
  });

  it("accepts real Telegram launch data carrying `signature`, with escaped characters in the name", () => {
    const now = new Date((TA_REAL_AUTH + 30) * 1000);
    const result = validateInitData(TA_REAL_RAW, { botToken: TA_REAL_TOKEN, maxAgeSeconds: DAY, now });
    expect(result.user.id).toBe(279058397);
    expect(result.user.first_name).toBe("Vladislav + - ? /");
    expect(result.user.language_code).toBe("ru");
  });

  it("keeps `signature` in the data-check-string (telegram-apps sign vector)", () => {
    expect(() => verifyInitDataSignature(TA_SIGNED_WITH_SIGNATURE, TA_TOKEN)).not.toThrow();
    const withoutSignature = TA_SIGNED_WITH_SIGNATURE.replace("&signature=abc", "");
    expect(unauthorizedMessage(() => verifyInitDataSignature(withoutSignature, TA_TOKEN))).toMatch(/signature is invalid/);
  });

  it("accepts aiogram's vector", () => {
    const result = validateInitData(AIOGRAM_RAW, { botToken: AIOGRAM_TOKEN, maxAgeSeconds: DAY, now: new Date((AIOGRAM_AUTH + 5) * 1000) });
    expect(result.user).toEqual({ id: 42, first_name: "Test" });
    expect(result.queryId).toBe("test");
  });

  it("decodes '+' as a space before checking, as aiogram's vector requires", () => {
    expect(() => verifyInitDataSignature(AIOGRAM_PLUS_RAW, AIOGRAM_TOKEN)).not.toThrow();
    // Correctly signed, but its user id is a string: not a user we accept.
    expect(unauthorizedMessage(() => validateInitData(AIOGRAM_PLUS_RAW, { botToken: AIOGRAM_TOKEN, maxAgeSeconds: DAY, now: new Date(AIOGRAM_AUTH * 1000) }))).toMatch(/user is malformed/);
  });

  it("refuses the published vectors with the wrong token or a broken hash (aiogram's negative cases)", () => {
    expect(unauthorizedMessage(() => verifyInitDataSignature(AIOGRAM_RAW, "42:INVALID"))).toMatch(/signature is invalid/);
    expect(unauthorizedMessage(() => verifyInitDataSignature(TA_RAW, `${TA_TOKEN}A`))).toMatch(/signature is invalid/);
    expect(unauthorizedMessage(() => verifyInitDataSignature("user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=test", AIOGRAM_TOKEN))).toMatch(/signature is invalid/);
    expect(unauthorizedMessage(() => verifyInitDataSignature("user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test", AIOGRAM_TOKEN))).toMatch(/no hash/);
    expect(unauthorizedMessage(() => verifyInitDataSignature("", AIOGRAM_TOKEN))).toMatch(/missing/);
    expect(unauthorizedMessage(() => verifyInitDataSignature("test&foo=bar=baz", AIOGRAM_TOKEN))).toMatch(/no hash/);
  });

  it("refuses telegram-apps' data once it is older than the allowed age", () => {
    expect(unauthorizedMessage(() => validateInitData(TA_REAL_RAW, { botToken: TA_REAL_TOKEN, maxAgeSeconds: 10, now: new Date((TA_REAL_AUTH + 11) * 1000) }))).toMatch(/expired/);
  });
});

describe("validateInitData", () => {
  const token = "777:OUR-token";
  const user = { id: 5001, first_name: "Анна", language_code: "ru" };
  const now = new Date("2026-11-21T12:00:00Z");
  const nowSeconds = now.getTime() / 1000;
  const sign = (fields: Record<string, string>) => signInitData(fields, token);
  const valid = (authDate = nowSeconds) => sign({ auth_date: String(authDate), user: JSON.stringify(user), query_id: "q" });
  const check = (raw: string, maxAgeSeconds = DAY) => validateInitData(raw, { botToken: token, maxAgeSeconds, now });

  it("round-trips our own signer", () => {
    expect(check(valid()).user).toEqual(user);
  });

  it("accepts an upper-case hex hash", () => {
    const raw = valid();
    const hash = new URLSearchParams(raw).get("hash") ?? "";
    expect(check(raw.replace(hash, hash.toUpperCase())).user.id).toBe(5001);
  });

  it("accepts auth_date exactly at the age limit and refuses one second past it", () => {
    expect(check(valid(nowSeconds - 3600), 3600).user.id).toBe(5001);
    expect(unauthorizedMessage(() => check(valid(nowSeconds - 3601), 3600))).toMatch(/expired/);
  });

  it("refuses auth_date far in the future but tolerates clock skew", () => {
    expect(check(valid(nowSeconds + 60)).user.id).toBe(5001);
    expect(unauthorizedMessage(() => check(valid(nowSeconds + 3600)))).toMatch(/future/);
  });

  it("refuses a forged user (hash of other data)", () => {
    const raw = valid();
    const forged = raw.replace(encodeURIComponent(`"id":5001`), encodeURIComponent(`"id":5002`));
    expect(forged).not.toBe(raw);
    expect(unauthorizedMessage(() => check(forged))).toMatch(/signature is invalid/);
  });

  it("refuses data signed with another bot's token", () => {
    const other = signInitData({ auth_date: String(nowSeconds), user: JSON.stringify(user) }, "778:OTHER-token");
    expect(unauthorizedMessage(() => check(other))).toMatch(/signature is invalid/);
  });

  it("refuses an added field that was not signed", () => {
    expect(unauthorizedMessage(() => check(`${valid()}&start_param=evil`))).toMatch(/signature is invalid/);
  });

  it("refuses missing, blank and garbled input", () => {
    expect(unauthorizedMessage(() => check(""))).toMatch(/missing/);
    expect(unauthorizedMessage(() => check("   "))).toMatch(/missing/);
    expect(unauthorizedMessage(() => check("%%%garbage"))).toMatch(/no hash/);
    expect(unauthorizedMessage(() => check("hash=zz"))).toMatch(/signature is invalid/);
    expect(unauthorizedMessage(() => check("a".repeat(20_000)))).toMatch(/malformed/);
  });

  it("refuses a repeated field", () => {
    const raw = valid();
    expect(unauthorizedMessage(() => check(`user=${encodeURIComponent(JSON.stringify({ id: 1, first_name: "x" }))}&${raw}`))).toMatch(/malformed/);
  });

  it("refuses a missing or non-numeric auth_date even when signed", () => {
    expect(unauthorizedMessage(() => check(sign({ user: JSON.stringify(user) })))).toMatch(/auth_date/);
    expect(unauthorizedMessage(() => check(sign({ auth_date: "soon", user: JSON.stringify(user) })))).toMatch(/auth_date/);
  });

  it("refuses signed data without a usable user", () => {
    const auth = String(nowSeconds);
    expect(unauthorizedMessage(() => check(sign({ auth_date: auth })))).toMatch(/no user/);
    expect(unauthorizedMessage(() => check(sign({ auth_date: auth, user: "{not json" })))).toMatch(/user is malformed/);
    expect(unauthorizedMessage(() => check(sign({ auth_date: auth, user: JSON.stringify({ id: -5, first_name: "x" }) })))).toMatch(/user is malformed/);
    expect(unauthorizedMessage(() => check(sign({ auth_date: auth, user: JSON.stringify({ first_name: "x" }) })))).toMatch(/user is malformed/);
  });
});
