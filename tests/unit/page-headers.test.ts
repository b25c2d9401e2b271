// The pages' CSP allows exactly the inline scripts of the build's
// prerendered pages, by SHA-256 of their text as the browser hashes it.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { pageHeadersForBuild, pageHeadersForDev } from "../../server/http/page-headers.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function build(pages: Record<string, string>): string {
  const nextDir = mkdtempSync(path.join(tmpdir(), "page-headers-"));
  dirs.push(nextDir);
  for (const [name, html] of Object.entries(pages)) {
    const file = path.join(nextDir, "server", "app", name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, html);
  }
  return nextDir;
}

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
const directive = (csp: string, name: string) => csp.split("; ").find((d) => d.startsWith(`${name} `)) ?? "";

test("every inline script of every prerendered page is allowed by its hash, and nothing else", () => {
  const boot = "(function(a){document.title='ü'})({\"x\":\"\\u003c\"})";
  const nextDir = build({
    "index.html": `<html><head><script>${boot}</script><style data-precedence="next">body{margin:0}</style><script src="/_next/static/a.js" async=""></script></head><body><script>self.__next_f.push([1,"x"])</script></body></html>`,
    "nested/_not-found.html": `<script id="_R_">(globalThis.TURBOPACK||[]).push(1)</script>`,
  });
  const csp = pageHeadersForBuild(nextDir)["Content-Security-Policy"] ?? "";
  const scripts = directive(csp, "script-src");
  for (const text of [boot, 'self.__next_f.push([1,"x"])', "(globalThis.TURBOPACK||[]).push(1)"]) expect(scripts).toContain(hash(text));
  expect(scripts.match(/'sha256-/g)).toHaveLength(3);
  expect(scripts).not.toMatch(/unsafe/);
  expect(directive(csp, "frame-ancestors")).toContain("https://*.telegram.org");
});

test("a missing build is refused at start, not served with a policy that blocks every page", () => {
  const nextDir = build({});
  expect(() => pageHeadersForBuild(nextDir)).toThrow(/no prerendered pages.*npm run build/);
});

test("the other headers are the same in development, where inline code has to run", () => {
  const dev = pageHeadersForDev();
  expect(directive(dev["Content-Security-Policy"] ?? "", "script-src")).toContain("'unsafe-eval'");
  expect(dev["Referrer-Policy"]).toBe("no-referrer");
  expect(dev["Permissions-Policy"]).toMatch(/camera=\(\).*microphone=\(\).*geolocation=\(\)/);
});
