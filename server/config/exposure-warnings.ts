// Configurations that start fine but leave a door open. Each becomes one
// warning at start-up that says what is exposed and which variable closes it.
import { isIP } from "node:net";
import type { Config } from "./env.js";

type ExposureConfig = Pick<Config, "host" | "port" | "apiKey" | "userHashSecret" | "botToken" | "telegramMode" | "webhookSecret">;

/** localhost, 127.0.0.0/8 and ::1 (also written [::1] or as IPv4-mapped ::ffff:127.x.x.x). */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  if (isIP(name) !== 6) return false;
  // The URL parser writes IPv6 in its shortest form: ::1, and ::ffff:7f00:1 for ::ffff:127.0.0.1.
  const canonical = new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return canonical === "::1" || /^::ffff:7f[0-9a-f]{2}:/.test(canonical);
}

export function exposureWarnings(config: ExposureConfig): string[] {
  const warnings: string[] = [];
  if (!config.apiKey && !config.userHashSecret && !isLoopbackHost(config.host)) {
    warnings.push(
      `the mobile API is open to anyone who can reach ${config.host}:${config.port}: neither API_KEY nor USER_HASH_SECRET is set, so any client can read any user's history and send messages in their name; ` +
        "set USER_HASH_SECRET (the app's backend then sends each user's user_hash) and/or API_KEY, or set SERVER_HOST=127.0.0.1 behind a proxy that authenticates",
    );
  }
  if (config.botToken && config.telegramMode === "webhook" && !config.webhookSecret) {
    warnings.push(
      "TELEGRAM_WEBHOOK_SECRET is not set: anyone who can reach /api/telegram/webhook can post forged agent replies into any user's chat; " +
        "set it to a random string (openssl rand -hex 32) and run npm run telegram:webhook again",
    );
  }
  return warnings;
}
