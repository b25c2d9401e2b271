// Validation of Telegram Mini App launch data (initData), as described in
// https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app:
//   data_check_string = every received field except `hash`, as key=value,
//                       sorted by key, joined with "\n" (values decoded);
//   secret_key        = HMAC_SHA256(key = "WebAppData", data = bot token);
//   hash              = hex(HMAC_SHA256(key = secret_key, data = data_check_string)).
// `signature` (Telegram's Ed25519 signature for third parties) is an ordinary
// field here and is part of the data-check-string, as in Telegram's own
// clients and the telegram-apps / aiogram implementations.
//
// Written on node:crypto rather than @tma.js/init-data-node: that package
// (and its older name @telegram-apps/init-data-node) brings fp-ts, valibot,
// a toolkit and an error library for forty lines of HMAC; the tests check
// this code against vectors published by telegram-apps and aiogram.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { unauthorized } from "../errors.js";
import type { TelegramUserInput } from "./types.js";

export interface ValidateInitDataOptions {
  botToken: string;
  /** oldest accepted auth_date, in seconds before `now` (INITDATA_MAX_AGE_SECONDS) */
  maxAgeSeconds: number;
  now?: Date;
  /** how far auth_date may lie ahead of our clock (clock skew); default 300 s */
  maxFutureSkewSeconds?: number;
}

export interface ValidatedInitData {
  user: TelegramUserInput;
  authDate: Date;
  queryId?: string;
  startParam?: string;
}

/** Real initData is well under 2 KB; anything far larger is not from Telegram. */
const MAX_INIT_DATA_LENGTH = 16 * 1024;
const DEFAULT_FUTURE_SKEW_SECONDS = 300;

const telegramUserSchema = z.object({
  id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  first_name: z.string().max(256),
  last_name: z.string().max(256).optional(),
  username: z.string().max(64).optional(),
  language_code: z.string().max(35).optional(),
});

function secretKey(botToken: string): Buffer {
  return createHmac("sha256", "WebAppData").update(botToken).digest();
}

/** hex HMAC of a data-check-string with the bot token's derived key. */
export function signDataCheckString(dataCheckString: string, botToken: string): string {
  return createHmac("sha256", secretKey(botToken)).update(dataCheckString).digest("hex");
}

function dataCheckString(entries: readonly (readonly [string, string])[]): string {
  return entries
    .filter(([key]) => key !== "hash")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

/**
 * Checks the signature only (no expiry, no user): the fields as received.
 * Throws UNAUTHORIZED on anything that is not correctly signed initData.
 */
export function verifyInitDataSignature(raw: string, botToken: string): Map<string, string> {
  if (raw.trim() === "") throw unauthorized("initData is missing");
  if (raw.length > MAX_INIT_DATA_LENGTH) throw unauthorized("initData is malformed");
  const entries = [...new URLSearchParams(raw).entries()];
  const fields = new Map<string, string>();
  for (const [key, value] of entries) {
    // A repeated key would make "which value was signed" ambiguous.
    if (key === "" || fields.has(key)) throw unauthorized("initData is malformed");
    fields.set(key, value);
  }
  const hash = fields.get("hash");
  if (hash === undefined || hash === "") throw unauthorized("initData is not signed (no hash)");
  if (!/^[0-9a-f]{64}$/i.test(hash)) throw unauthorized("initData signature is invalid");
  const expected = Buffer.from(signDataCheckString(dataCheckString(entries), botToken), "hex");
  if (!timingSafeEqual(expected, Buffer.from(hash, "hex"))) throw unauthorized("initData signature is invalid");
  return fields;
}

/** Full validation: signature, auth_date window, and the user it names. */
export function validateInitData(raw: string, options: ValidateInitDataOptions): ValidatedInitData {
  const fields = verifyInitDataSignature(raw, options.botToken);
  const authDateText = fields.get("auth_date") ?? "";
  if (!/^\d{1,12}$/.test(authDateText)) throw unauthorized("initData has no valid auth_date");
  const authSeconds = Number(authDateText);
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (nowSeconds - authSeconds > options.maxAgeSeconds) {
    throw unauthorized("initData has expired; reopen the Mini App from Telegram");
  }
  if (authSeconds - nowSeconds > (options.maxFutureSkewSeconds ?? DEFAULT_FUTURE_SKEW_SECONDS)) {
    throw unauthorized("initData auth_date lies in the future");
  }
  const userText = fields.get("user");
  if (userText === undefined) throw unauthorized("initData names no user");
  let userJson: unknown;
  try {
    userJson = JSON.parse(userText);
  } catch {
    throw unauthorized("initData user is malformed");
  }
  const user = telegramUserSchema.safeParse(userJson);
  if (!user.success) throw unauthorized("initData user is malformed");
  const result: ValidatedInitData = { user: user.data, authDate: new Date(authSeconds * 1000) };
  const queryId = fields.get("query_id");
  if (queryId !== undefined) result.queryId = queryId;
  const startParam = fields.get("start_param");
  if (startParam !== undefined) result.startParam = startParam;
  return result;
}

/**
 * Signs launch data the way Telegram does: for tests, end-to-end runs and the
 * development mock of the Telegram environment. `fields` are the decoded
 * values (objects such as `user` already JSON-encoded).
 */
export function signInitData(fields: Record<string, string>, botToken: string): string {
  const entries = Object.entries(fields).filter(([key]) => key !== "hash");
  const params = new URLSearchParams(entries);
  params.set("hash", signDataCheckString(dataCheckString(entries), botToken));
  return params.toString();
}
