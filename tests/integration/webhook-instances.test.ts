// Two instances of the service on one database (SPEC §8): Telegram may
// deliver an update to one, time out, and redeliver it to the other while
// the first still works on it. The update is processed once: the instance
// holding the claim answers 200, the other 200 (done) or 503 (still being
// processed), never both processing. Two real apps (createApp) in webhook
// mode on one database (a SQLite file, or PostgreSQL with
// TEST_ENGINE=postgres), the Telegram stand-in behind both.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson, requestJson } from "../fixtures/http.js";
import { plainJpeg } from "../fixtures/images.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import type { SendAnswer } from "../fixtures/wire.js";

const GROUP = -1002223334445;
const SECRET = "instances-secret_123";
const USER = "two-instances-user";

let tg: TelegramStandIn;
let dir: string;
let a: TestApp;
let b: TestApp;
let post: number; // the group post of USER's message that agents reply to

/** expect.poll works inside tests only; the set-up waits with this */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const start = (instance: string) =>
  startTestApp({
    dir,
    env: { ...tg.envFor(GROUP), TELEGRAM_MODE: "webhook", TELEGRAM_WEBHOOK_SECRET: SECRET, INSTANCE_ID: instance },
    botInfo: tg.botInfo,
  });

beforeAll(async () => {
  tg = await startTelegramStandIn();
  dir = mkdtempSync(path.join(tmpdir(), "webhook-instances-"));
  a = await start("instance-a");
  b = await start("instance-b");
  const sent = await postJson<SendAnswer>(`${a.url}/send_message`, { user_id: USER, message: "a question for both instances" });
  expect(sent.status).toBe(200);
  await until(() => tg.sent(GROUP).some((m) => m.text?.endsWith("a question for both instances")), "the message is posted into the group");
  post = tg.sent(GROUP).at(-1)?.message_id ?? 0;
  // Telegram has the post before the sender commits its mapping: wait for the commit.
  const mapped = async () => ((await a.app.db.sql.get<{ n: number }>("SELECT count(*) AS n FROM message_mapping"))?.n ?? 0) > 0;
  await until(mapped, "the post is mapped to the user");
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await tg?.close();
  rmSync(dir, { recursive: true, force: true });
});

function webhook(app: TestApp, update: Update): Promise<Response> {
  return fetch(`${app.url}/api/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET },
    body: JSON.stringify(update),
  });
}

/** USER's support messages as `app` answers them: each instance reads the shared database */
async function supportMessages(app: TestApp): Promise<{ message: string; photo_urls?: string[] }[]> {
  const history = await requestJson<{ messages: { message: string; direction: string; photo_urls?: string[] }[] }>(`${app.url}/message_history/${USER}`);
  return history.body.messages.filter((m) => m.direction === "support");
}

const texts = async (app: TestApp) => (await supportMessages(app)).map((m) => m.message);

describe("one update delivered to two instances at once", () => {
  test("a slow photo reply: one instance processes it (one getFile), the other answers 503, and it is stored once", async () => {
    const update = tg.updates.groupPhoto({ chatId: GROUP, bytes: await plainJpeg(40, 30), caption: "photo to both", replyTo: post });
    tg.setDelay(300); // the photo's getFile and download keep the claim held while the other copy arrives
    const answers = await Promise.all([webhook(a, update), webhook(b, update)]);
    tg.setDelay(0);
    // The copies overlap by the whole delay, so the second finds the first's claim held.
    expect(answers.map((r) => r.status).sort()).toEqual([200, 503]);
    for (const [i, r] of answers.entries()) {
      if (r.status === 503) expect(await r.json()).toMatchObject({ success: false, error: expect.stringMatching(/another instance/) });
      else expect([i, await r.json()]).toEqual([i, { ok: true }]);
    }
    expect(tg.callsTo("getFile")).toHaveLength(1);
    // Telegram's redelivery of the copy answered 503, to either instance: done, not run again.
    expect((await webhook(b, update)).status).toBe(200);
    expect((await webhook(a, update)).status).toBe(200);
    const stored = (await supportMessages(b)).filter((m) => m.message === "photo to both");
    expect(stored).toHaveLength(1);
    expect(stored[0]?.photo_urls).toHaveLength(1);
    expect(tg.callsTo("getFile")).toHaveLength(1);
  });

  test("a burst of replies, each to both instances at once: every one processed once (one getFile each) and stored once", async () => {
    const photo = await plainJpeg(20, 20);
    const updates = Array.from({ length: 6 }, (_, i) => tg.updates.groupPhoto({ chatId: GROUP, bytes: photo, caption: `burst reply ${i}`, replyTo: post }));
    const getFiles = tg.callsTo("getFile").length;
    tg.setDelay(100);
    const answers = await Promise.all(updates.flatMap((u) => [webhook(a, u), webhook(b, u)]));
    tg.setDelay(0);
    for (let i = 0; i < updates.length; i++) {
      const pair = [answers[2 * i]?.status, answers[2 * i + 1]?.status];
      expect(pair).toContain(200);
      expect(pair.every((s) => s === 200 || s === 503)).toBe(true);
    }
    expect(tg.callsTo("getFile").length - getFiles).toBe(updates.length);
    const stored = (await texts(a)).filter((t) => t.startsWith("burst reply "));
    expect(stored.sort()).toEqual(updates.map((_, i) => `burst reply ${i}`).sort());
  });

  test("a failure on one instance gives the claim up: Telegram's redelivery to the other is processed, once", async () => {
    const update = tg.updates.groupPhoto({ chatId: GROUP, bytes: await plainJpeg(30, 20), caption: "retried elsewhere", replyTo: post });
    tg.failNext(1, { kind: "network" }, ["getFile"]);
    expect((await webhook(a, update)).status).toBe(500);
    expect(await a.app.db.prisma.processedUpdate.findUnique({ where: { updateId: BigInt(update.update_id) } })).toBeNull();
    expect((await webhook(b, update)).status).toBe(200);
    expect((await webhook(a, update)).status).toBe(200);
    expect((await texts(a)).filter((t) => t === "retried elsewhere")).toHaveLength(1);
  });
});
