// Development-only launcher: opens the Mini App in a plain browser as if
// Telegram had launched it, with initData signed by this server's own bot
// token. The server validates that HMAC exactly as for real launches, so
// nothing is skipped; in a production build this route is a 404.
//   /dev/launch?user=1001&name=Ann&lang=en&theme=dark
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import type { NextRequest } from "next/server";
import { launchHash, type ThemePreset } from "./presets";
import { signInitData } from "./sign";

export const dynamic = "force-dynamic";

export async function GET(request: NextRequest): Promise<Response> {
  if (process.env.NODE_ENV !== "development") return new Response("Not found", { status: 404 });

  // The same sources the server reads its token from: the environment, then
  // .env. (server/config/env.ts stays the reader for everything else; Next
  // cannot bundle the server's NodeNext-style imports into a route.)
  const file = existsSync(".env") ? parseEnv(readFileSync(".env", "utf8")) : {};
  const botToken = process.env.BOT_TOKEN ?? process.env.TELEGRAM_BOT_TOKEN ?? file.BOT_TOKEN ?? file.TELEGRAM_BOT_TOKEN;
  if (!botToken) return new Response("Set BOT_TOKEN (any well-formed value such as 123456:DEV-token) to sign development launches.\n", { status: 503 });

  const q = request.nextUrl.searchParams;
  const id = Number(q.get("user") ?? "1001");
  if (!Number.isSafeInteger(id) || id <= 0) return new Response("user must be a positive integer\n", { status: 400 });
  const theme: ThemePreset = q.get("theme") === "dark" ? "dark" : "light";
  const user = { id, first_name: q.get("name") ?? "Dev", language_code: q.get("lang") ?? "ru" };
  const initData = signInitData({ auth_date: String(Math.floor(Date.now() / 1000)), query_id: `dev-${id}`, user: JSON.stringify(user), signature: randomBytes(64).toString("base64url") }, botToken);

  // Relative: behind the custom server Next's idea of its own origin is the bind address.
  return new Response(null, { status: 307, headers: { Location: `/${launchHash(initData, theme)}` } });
}
