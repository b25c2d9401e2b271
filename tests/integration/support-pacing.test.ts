// Outgoing pacing against a stand-in that enforces Telegram's per-group
// limit, scaled down in time so the test takes seconds: a backlog drains
// at the allowed rate without provoking a single 429, in order; 429 storms
// and 500s delay but never lose or reorder; an answer lost after Telegram
// accepted the call is the one case that repeats a post.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { postJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

const GROUP = -1007770001111;
// Telegram: 20 per 60 s. Here: 5 per 1.5 s, the same shape 40 times faster.
const LIMIT = 5;
const WINDOW_MS = 1500;

let tg: TelegramStandIn;
let t: TestApp;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: { BOT_TOKEN: tg.token, GROUP_CHAT_ID: String(GROUP), TELEGRAM_API_ROOT: tg.apiRoot },
    botInfo: tg.botInfo,
    pacerLimits: { perGroup: LIMIT, perGroupWindowMs: WINDOW_MS, overall: 30, overallWindowMs: 1000 },
  });
});
afterAll(async () => {
  await t.close();
  await tg.close();
});
afterEach(() => {
  tg.setGroupLimit(null);
  tg.clearFaults();
});

const posted = (tag: string) => tg.sent(GROUP).filter((m) => m.text?.includes(tag));

describe("pacing", () => {
  test("a backlog drains at the group's limit, in order, with no 429", async () => {
    tg.setGroupLimit({ limit: LIMIT, windowMs: WINDOW_MS });
    const limitedBefore = tg.stats.groupLimited;
    const answers: string[] = [];
    for (let i = 0; i < 15; i++) {
      answers.push((await postJson<{ delivery: string }>(`${t.url}/send_message`, { user_id: `pace-${i % 3}`, message: `pace ${String(i).padStart(2, "0")}` })).body.delivery);
    }
    // The first few go at once, the rest are paced into the queue.
    expect(answers.slice(0, LIMIT).every((d) => d === "sent")).toBe(true);
    expect(answers.slice(LIMIT).every((d) => d === "queued")).toBe(true);
    await expect.poll(() => posted("pace ").length, { timeout: 10_000, interval: 100 }).toBe(15);
    expect(posted("pace ").map((m) => m.text?.slice(-7))).toEqual(Array.from({ length: 15 }, (_, i) => `pace ${String(i).padStart(2, "0")}`));
    expect(tg.stats.groupLimited).toBe(limitedBefore);
    // Never more than LIMIT in any window, as the stand-in saw it.
    const times = tg.callsTo("sendMessage").filter((c) => c.ok && String(c.params.text).includes("pace ")).map((c) => c.at);
    for (let i = LIMIT; i < times.length; i++) expect((times[i] as number) - (times[i - LIMIT] as number)).toBeGreaterThanOrEqual(WINDOW_MS);
    // And not much slower than allowed: 15 messages need two full windows.
    const span = (times.at(-1) as number) - (times[0] as number);
    expect(span).toBeLessThan(2 * WINDOW_MS + 1500);
  });

  test("a storm of 429s and 500s delays but neither loses nor reorders", async () => {
    tg.failNext(3, { kind: "retry-after", seconds: 1 }, ["sendMessage"]);
    tg.failNext(2, { kind: "server-error" }, ["sendMessage"]);
    const sends = [];
    for (let i = 0; i < 6; i++) sends.push(await postJson<{ delivery: string }>(`${t.url}/send_message`, { user_id: "storm", message: `storm ${i}` }));
    await expect.poll(() => posted("storm ").length, { timeout: 20_000, interval: 100 }).toBe(6);
    expect(posted("storm ").map((m) => m.text?.slice(-7))).toEqual(["storm 0", "storm 1", "storm 2", "storm 3", "storm 4", "storm 5"]);
  });
});

describe("the one repeat we cannot rule out", () => {
  test("an answer lost after Telegram accepted the post repeats that post once, and only it", async () => {
    tg.failNext(1, { kind: "network-after" }, ["sendMessage"]);
    await postJson(`${t.url}/send_message`, { user_id: "lost-answer", message: "lost answer" });
    await postJson(`${t.url}/send_message`, { user_id: "lost-answer", message: "after it" });
    await expect.poll(() => posted("after it").length, { timeout: 10_000 }).toBe(1);
    // Telegram offers no idempotency key for sendMessage: the post whose
    // answer never arrived is sent again; nothing else is.
    expect(posted("lost answer")).toHaveLength(2);
  });
});
