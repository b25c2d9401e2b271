// The README's curl lines, run as written with the real curl binary against
// a test service: only `localhost:5000` is pointed at the test's address,
// and what the lines expect from the user's machine is supplied (a
// screenshot.png in the working folder, $INIT_DATA in the environment).
// Each answer must be the one the README documents. A curl line added to
// the README without an expectation here fails the test, so none goes
// unchecked.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { makePng } from "../fixtures/images.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { PROJECT_ROOT, startTestApp, type TestApp } from "../fixtures/test-app.js";
import { initDataFor, makeUser } from "./diary-setup.js";

const GROUP = -1005550004444;

interface ReadmeCurl {
  command: string;
  /** the answer the README shows for it (a `# → …` line under it), if any */
  documented?: string;
}

/** curl commands in fenced code blocks (with their `\` continuations) and in inline code. */
function readmeCurls(markdown: string): ReadmeCurl[] {
  const found: ReadmeCurl[] = [];
  const fence = /```[a-z]*\n([\s\S]*?)```/g;
  for (const block of markdown.matchAll(fence)) {
    const lines = (block[1] ?? "").split("\n").map((l) => l.trim());
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]?.startsWith("curl ")) continue;
      let command = lines[i] ?? "";
      while (command.endsWith("\\") && i + 1 < lines.length) command = `${command.slice(0, -1).trimEnd()} ${lines[++i]}`;
      const documented = /^#\s*→\s*(.+)$/.exec(lines[i + 1] ?? "")?.[1];
      found.push(documented ? { command, documented } : { command });
    }
  }
  const outsideFences = markdown.replace(fence, "");
  for (const inline of outsideFences.matchAll(/`(curl [^`]+)`/g)) found.push({ command: inline[1] ?? "" });
  return found;
}

/** Same keys; numbers (ids) by type, every other value as documented. */
function sameShape(actual: Record<string, unknown>, documented: Record<string, unknown>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(documented).sort());
  for (const [key, value] of Object.entries(documented)) {
    if (typeof value === "number") expect(actual[key], key).toEqual(expect.any(Number));
    else expect(actual[key], key).toEqual(value);
  }
}

let tg: TelegramStandIn;
let t: TestApp;
let cwd: string;
const user = makeUser({ first_name: "Readme" });

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: { ...tg.envFor(GROUP), TELEGRAM_MODE: "webhook" },
    botInfo: tg.botInfo,
  });
  cwd = mkdtempSync(path.join(tmpdir(), "readme-curl-"));
  writeFileSync(path.join(cwd, "screenshot.png"), makePng(32, 20));
});
afterAll(async () => {
  await t.close();
  await tg.close();
  rmSync(cwd, { recursive: true, force: true });
});

// Asynchronous: the service answers from this very process.
const execFileAsync = promisify(execFile);

async function run(command: string): Promise<{ status: number; body: unknown }> {
  const address = t.url.replace(/^http:\/\//, "");
  const rewritten = command.replaceAll("localhost:5000", address);
  // -w appends the status on its own line; the command stays as written.
  const { stdout: out } = await execFileAsync("bash", ["-c", `${rewritten} -w '\\n%{http_code}'`], {
    cwd,
    env: { NODE_ENV: "test", PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, INIT_DATA: initDataFor(user, { botToken: tg.token }) },
    encoding: "utf8",
    timeout: 15_000,
  });
  const at = out.lastIndexOf("\n");
  return { status: Number(out.slice(at + 1)), body: JSON.parse(out.slice(0, at)) as unknown };
}

/** What each README line must answer, in the order the README has them. */
const EXPECTATIONS: [RegExp, (answer: { status: number; body: unknown }, documented?: string) => void][] = [
  [/^curl localhost:5000\/health$/, ({ status, body }) => {
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok" });
  }],
  [/^curl -s localhost:5000\/send_message -H 'content-type: application\/json' -d /, ({ status, body }, documented) => {
    expect(status).toBe(200);
    expect(documented).toBeDefined();
    sameShape(body as Record<string, unknown>, JSON.parse(documented ?? "{}") as Record<string, unknown>);
    expect(tg.sent(GROUP).some((m) => m.text?.includes("Здравствуйте, не работает оплата"))).toBe(true);
  }],
  [/^curl -s localhost:5000\/send_message -F .*photo=@screenshot\.png$/, ({ status, body }) => {
    expect(status).toBe(200);
    expect(body).toMatchObject({ success: true, photo_url: expect.stringMatching(/^\/uploads\/.+\.png$/), photo_count: 1, delivery: "sent" });
  }],
  [/^curl -s localhost:5000\/message_history\/demo-1$/, ({ status, body }) => {
    expect(status).toBe(200);
    const messages = (body as { messages: { message: string }[] }).messages.map((m) => m.message);
    expect(messages).toEqual(expect.arrayContaining(["Здравствуйте, не работает оплата", "Скриншот"]));
  }],
  [/^curl -X POST -H "Authorization: tma \$INIT_DATA" .* localhost:5000\/api\/trpc\/notes\.create$/, ({ status, body }) => {
    expect(status).toBe(200);
    expect(body).toMatchObject({ result: { data: { id: expect.any(Number), text: "hi", created_at: expect.any(String), updated_at: expect.any(String) } } });
  }],
];

test("every curl line of the README answers as the README says", async () => {
  const curls = readmeCurls(readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8"));
  expect(curls.length).toBeGreaterThanOrEqual(EXPECTATIONS.length);
  const order = (c: ReadmeCurl) => EXPECTATIONS.findIndex(([pattern]) => pattern.test(c.command));
  for (const curl of curls) expect(order(curl), `no expectation for the README line: ${curl.command}`).toBeGreaterThanOrEqual(0);
  for (const [pattern] of EXPECTATIONS) expect(curls.some((c) => pattern.test(c.command)), `the README no longer has a line like ${pattern}`).toBe(true);
  // Run in the round trip's order (the history line reads what the sends stored).
  for (const curl of [...curls].sort((a, b) => order(a) - order(b))) {
    const check = EXPECTATIONS[order(curl)]?.[1];
    check?.(await run(curl.command), curl.documented);
  }
});
