// Security headers for the Mini App pages (everything Next.js answers).
//
// Why the custom server sets them and not next.config.mjs's headers(): the
// Content-Security-Policy allows inline scripts by their SHA-256, and those
// are only known once the pages are built. Next.js's headers() is evaluated
// before the pages are prerendered, so it cannot know them.
//
// Which inline scripts: our boot script (app/_lib/boot/script.ts), and the
// ones Next.js writes into every App Router page (the Turbopack chunk list,
// `self.__next_f.push(...)` with the RSC payload). Next's own answer to
// those is a nonce (proxy.ts puts it in the request's CSP header and Next
// copies it onto its scripts), but a nonce only works when every page is
// rendered per request. Ours are static (the Mini App is rendered in the
// browser; there is nothing per-user in the HTML), so Next serves the
// prerendered files from .next/server/app byte for byte, and hashing the
// inline scripts of those files at start allows exactly them and nothing
// else, while the pages stay static. A page made dynamic later would need
// the nonce way; tests/e2e/security-headers.spec.ts fails if a page's
// script is blocked.
//
// Only build output is hashed, never a response: hashing what a response
// happens to contain would allow whatever got injected into it.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, type Dirent } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

export type PageHeaders = Readonly<Record<string, string>>;

/**
 * Telegram Web (web.telegram.org/k and /a) shows Mini Apps in an iframe;
 * the phone and desktop clients open them in a webview of their own, where
 * there is no ancestor to check.
 */
const TELEGRAM_WEB = "https://*.telegram.org";

/**
 * Features the diary never uses; denied so that no injected code can ask
 * for them either. Only names Chromium knows: an unknown one is a console
 * warning on every page (Chromium has no "bluetooth" here, for one).
 */
const DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "midi", "display-capture", "magnetometer", "gyroscope", "accelerometer"];

const INLINE_SCRIPT = /<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/gi;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** Hashes of the text of every inline script of these pages, in CSP source syntax. */
function inlineScriptHashes(html: string[]): string[] {
  const hashes = new Set<string>();
  for (const page of html) for (const match of page.matchAll(INLINE_SCRIPT)) if (match[1]) hashes.add(sha256(match[1]));
  return [...hashes].sort();
}

/** The prerendered HTML pages of a production build (`.next/server/app/**.html`). */
function readPrerenderedPages(nextDir: string): string[] {
  const appDir = path.join(nextDir, "server", "app");
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(appDir, { withFileTypes: true, recursive: true });
  } catch {
    // reported below
  }
  const pages = entries.filter((e) => e.isFile() && e.name.endsWith(".html")).map((e) => readFileSync(path.join(e.parentPath, e.name), "utf8"));
  if (pages.length === 0) throw new Error(`no prerendered pages in ${appDir}: build the app first (npm run build)`);
  return pages;
}

/**
 * Styles may be inline: Next's own pages (not-found, global-error) carry
 * style="" attributes, which no hash can allow, and CSS cannot run code;
 * what keeps injected code out is script-src.
 */
export function contentSecurityPolicy(scriptSources: string[]): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${scriptSources.join(" ")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors 'self' ${TELEGRAM_WEB}`,
  ].join("; ");
}

function headersWith(csp: string): PageHeaders {
  return {
    "Content-Security-Policy": csp,
    // The launch URL can carry a session token (?session=) until the boot
    // script takes it out; no request of ours needs a Referer.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": DENIED_FEATURES.map((f) => `${f}=()`).join(", "),
    "X-Content-Type-Options": "nosniff",
  };
}

/** The headers for the pages of the production build in nextDir: its inline scripts allowed by hash. */
export function pageHeadersForBuild(nextDir: string): PageHeaders {
  return headersWith(contentSecurityPolicy(inlineScriptHashes(readPrerenderedPages(nextDir))));
}

/**
 * `npm run dev` renders every page per request with changing inline
 * scripts (hot reload), and React needs eval there for its error overlays:
 * the same policy, with inline code allowed.
 */
export function pageHeadersForDev(): PageHeaders {
  return headersWith(contentSecurityPolicy(["'unsafe-inline'", "'unsafe-eval'"]));
}

/** Wraps Next's request handler so every answer carries these headers (Next keeps headers already set). */
export function withPageHeaders<R>(handle: (req: IncomingMessage, res: ServerResponse) => R, headers: PageHeaders): (req: IncomingMessage, res: ServerResponse) => R {
  const entries = Object.entries(headers);
  return (req, res) => {
    for (const [name, value] of entries) res.setHeader(name, value);
    return handle(req, res);
  };
}
