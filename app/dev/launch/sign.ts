// Telegram's initData signature, for the development launcher only
// (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
//   secret = HMAC_SHA256(key "WebAppData", bot token)
//   hash   = hex HMAC_SHA256(key secret, sorted "key=value" lines)
// Self-contained on purpose: Next bundles route handlers and cannot follow
// the server's NodeNext-style "./x.js" imports into server/.
import { createHmac } from "node:crypto";

export function signInitData(fields: Record<string, string>, botToken: string): string {
  const entries = Object.entries(fields).filter(([key]) => key !== "hash");
  const dataCheckString = entries
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join("\n");
  const secret = createHmac("sha256", "WebAppData").update(botToken).digest();
  const params = new URLSearchParams(entries);
  params.set("hash", createHmac("sha256", secret).update(dataCheckString).digest("hex"));
  return params.toString();
}
