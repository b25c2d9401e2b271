// npm run outbox against the database of a running service: a stuck job is
// listed with its error, skipping it lets the queue move on, retrying a
// set-aside job delivers it, and the running service notices each within
// seconds. A chat-level refusal holds the queue (nothing behind it is
// skipped) until it is fixed and retried.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { runOutbox } from "../../server/cli/outbox.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { PROJECT_ROOT, startTestApp, testEngine, type TestApp } from "../fixtures/test-app.js";

const GROUP = -1002220001111;

let tg: TelegramStandIn;
let t: TestApp;
let seq = 0;
const uniqueUser = () => `cli-${Date.now()}-${++seq}`;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: { ...tg.envFor(GROUP) },
    botInfo: tg.botInfo,
    pacerLimits: { perGroup: 1000, perGroupWindowMs: 60_000, overall: 1000, overallWindowMs: 1000 },
  });
});
afterAll(async () => {
  await t.close();
  await tg.close();
});
afterEach(() => {
  tg.clearFaults();
  tg.setChatError(GROUP, null);
});

async function outbox(...argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOutbox({ argv, config: t.app.config, io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out: out.join("\n"), err };
}

const posted = (tag: string) => tg.sent(GROUP).filter((m) => m.text?.includes(tag)).map((m) => m.text?.slice(-tag.length - 2));
const jobOf = async (messageId: number) => (await t.app.db.sql.get<{ id: number }>("SELECT id FROM outbox WHERE message_id = ?", [messageId]))?.id;
const health = async () => (await requestJson<{ queue: { depth: number; last_error: string | null; set_aside: { count: number; latest_reason: string | null } } }>(`${t.url}/health`)).body.queue;

describe("npm run outbox while the service runs", () => {
  test("a chat-level refusal holds the queue and is listed with its error; after the fix, retry sends both, in order", async () => {
    const user = uniqueUser();
    tg.setChatError(GROUP, { code: 400, description: "Bad Request: not enough rights to send text messages to the chat" });
    const asideBefore = (await health()).set_aside.count;
    const first = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: "права A" });
    await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: "права B" });
    await expect.poll(async () => (await health()).last_error).toContain("not enough rights");

    const listed = await outbox("list");
    expect(listed.code).toBe(0);
    const firstJob = await jobOf(first.body.id);
    expect(firstJob).toBeTypeOf("number");
    const line = listed.out.split("\n").find((l) => l.startsWith(`${firstJob} `));
    expect(line).toContain("telegram");
    expect(line).toContain(user);
    expect(line).toContain("not enough rights");
    // Held, not skipped: both still in line, nothing set aside, nothing posted.
    const held = await health();
    expect(held.depth).toBe(2);
    expect(held.set_aside.count).toBe(asideBefore);
    expect(posted("права")).toEqual([]);

    tg.setChatError(GROUP, null);
    const retried = await outbox("retry", String(firstJob));
    expect(retried.code).toBe(0);
    await expect.poll(() => posted("права"), { timeout: 6_000 }).toEqual(["права A", "права B"]);
  });

  test("skip sets a stuck job aside and the message behind it arrives; retry of the set-aside job delivers it", async () => {
    const user = uniqueUser();
    // Telegram keeps failing this one message with a 5xx: retried, and the queue waits behind it.
    const stopFailing = tg.refuse({ methods: ["sendMessage"], when: (p) => String(p.text).includes("застрял"), code: 500, description: "Internal Server Error" });
    const stuck = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: "застрял C" });
    await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: "позади D" });
    await expect.poll(async () => (await outbox("list")).out).toContain("500 Internal Server Error");
    expect(posted("позади")).toEqual([]);

    const jobId = String(await jobOf(stuck.body.id));
    const skipped = await outbox("skip", jobId);
    expect(skipped.code).toBe(0);
    await expect.poll(() => posted("позади"), { timeout: 6_000 }).toEqual(["позади D"]);
    const listed = (await outbox("list")).out.split("\n").find((l) => l.startsWith(`${jobId} `));
    expect(listed).toContain("set aside");
    expect(listed).toContain("skipped by operator");
    expect((await health()).set_aside.latest_reason).toBe("skipped by operator");
    const delivery = async () => (await t.app.db.sql.get<{ delivery: string }>("SELECT delivery FROM messages WHERE id = ?", [stuck.body.id]))?.delivery;
    expect(await delivery()).toBe("set_aside");

    stopFailing();
    expect((await outbox("retry", jobId)).code).toBe(0);
    await expect.poll(() => posted("застрял"), { timeout: 6_000 }).toEqual(["застрял C"]);
    await expect.poll(delivery).toBe("sent");
    expect(await outbox("list")).toMatchObject({ code: 0, out: expect.stringContaining("empty") });
  });

  test("as its own process (the npm script's command), next to the running service", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx"), ["server/cli/outbox.ts", "list"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: t.app.config.databaseUrl, BOT_TOKEN: "", GROUP_CHAT_ID: "" },
    });
    expect(stdout).toMatch(/empty|in line/);
  });

  test("one line and a non-zero exit when the database cannot be opened or the job does not exist", async () => {
    const missingLines: string[] = [];
    const missingFile = path.join(t.dir, "no-such.db");
    const missing = await runOutbox({ argv: ["list"], config: { ...t.app.config, databasePath: missingFile }, io: { out: () => undefined, err: (l) => missingLines.push(l) } });
    expect(missing).toBe(1);
    expect(missingLines).toHaveLength(1);
    expect(missingLines[0]).toContain(`Cannot open the database ${missingFile}`);
    expect(existsSync(missingFile)).toBe(false);
    const noJob = await outbox("retry", "987654");
    expect(noJob.code).toBe(1);
    expect(noJob.err).toHaveLength(1);
    expect(noJob.err[0]).toContain("no outbox job 987654");
    const bad = await outbox("skip", "abc");
    expect(bad.code).toBe(2);
  });

  // The SQLite twin is the missing file above; this one needs a PostgreSQL server, so it runs in the PostgreSQL pass.
  test.runIf(testEngine === "postgres")("one line and a non-zero exit when the PostgreSQL database does not exist", async () => {
    const lines: string[] = [];
    const url = new URL(t.app.config.databaseUrl);
    url.pathname = "/no_such_database";
    const code = await runOutbox({ argv: ["list"], config: { ...t.app.config, databasePath: null, databaseUrl: url.toString() }, io: { out: () => undefined, err: (l) => lines.push(l) } });
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("Cannot read the outbox in the PostgreSQL database no_such_database");
    expect(lines[0]).toContain("does not exist");
  });
});
