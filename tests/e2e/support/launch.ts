// Launching the Mini App the way Telegram does: initData signed with the
// bot token (HMAC-SHA256, secret = HMAC_SHA256("WebAppData", token), over
// the sorted key=value lines), put into the URL hash with the version,
// platform and theme params.
// https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
import { signInitData as signWithBotToken } from "../../../server/diary/init-data.js";
import { randomBytes, randomInt } from "node:crypto";
import { launchHash, type ThemePreset } from "../../../app/dev/launch/presets";

/** The fake token the e2e server runs with (or the one of a server you point E2E_BASE_URL at). */
export const E2E_BOT_TOKEN = process.env.E2E_BOT_TOKEN ?? "123456:TEST-token";

export interface TestUser {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** A user no other test uses, so tests run in parallel without cleanup. */
export function newUser(overrides: Partial<TestUser> = {}): TestUser {
  return { id: randomInt(1_000_000, 2 ** 31 - 1), first_name: "Alice", language_code: "en", ...overrides };
}

/** Signs launch parameters exactly as Telegram does (the server's own signer). */
export function signInitData(fields: Record<string, string>, botToken = E2E_BOT_TOKEN): string {
  return signWithBotToken(fields, botToken);
}

export function initDataFor(user: TestUser, authDate = new Date()): string {
  return signInitData({
    auth_date: String(Math.floor(authDate.getTime() / 1000)),
    query_id: `AAE${user.id}`,
    user: JSON.stringify(user),
    // Clients since Bot API 8.0 add Telegram's Ed25519 signature (for third
    // parties); bots do not verify it, but it is part of the HMAC'd fields and
    // the SDK expects it to be there.
    signature: randomBytes(64).toString("base64url"),
  });
}

/** Path + hash to open, e.g. page.goto(launchUrl(user, "dark")); authDate as Telegram signed it (an old one has expired). */
export function launchUrl(user: TestUser, theme: ThemePreset = "light", search = "", authDate = new Date()): string {
  return `/${search}${launchHash(initDataFor(user, authDate), theme)}`;
}
