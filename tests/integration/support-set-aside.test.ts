// One message never holds the queue: a post Telegram refuses for a reason
// of its own (a text it will not take, a photo it cannot use) is sent
// another way and, when that is refused too, set aside with the reason in
// /health, while the messages behind it go out in order. The stand-in
// refuses the way Telegram does: the same 400 for the same message, every
// time it is sent.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../server/logger.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

const GROUP = -1004440001111;

interface Health {
  queue: { depth: number; last_error: string | null; set_aside?: { count: number; latest_reason: string | null } };
}

let tg: TelegramStandIn;
let t: TestApp;
const logLines: string[] = [];
let seq = 0;
const uniqueUser = () => `aside-${Date.now()}-${++seq}`;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: { ...tg.envFor(GROUP), PUBLIC_WEBAPP_URL: "https://support.example.com/" },
    botInfo: tg.botInfo,
    logger: createLogger({ level: "warn", secrets: [], destination: { write: (line: string) => void logLines.push(line) } }),
    pacerLimits: { perGroup: 1000, perGroupWindowMs: 60_000, overall: 1000, overallWindowMs: 1000 },
  });
});
afterAll(async () => {
  await t.close();
  await tg.close();
});
afterEach(() => tg.clearFaults());

const health = async () => (await requestJson<Health>(`${t.url}/health`)).body;
const posted = (tag: string) => tg.sent(GROUP).filter((m) => (m.text ?? m.caption ?? "").includes(tag));
const send = (user: string, message: string, extra: Record<string, unknown> = {}) => postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message, ...extra });
const deliveryOf = async (id: number) => (await t.app.db.sql.get<{ delivery: string }>("SELECT delivery FROM messages WHERE id = ?", [id]))?.delivery;

describe("a message Telegram will not take", () => {
  test("a text refused every way is set aside; the messages behind it arrive, in order, and it stays in the history", async () => {
    const user = uniqueUser();
    tg.refuse({ methods: ["sendMessage"], when: (p) => String(p.text).includes("НЕ ПРИМУТ"), code: 400, description: "Bad Request: message is too long" });
    const before = (await health()).queue.set_aside?.count ?? 0;
    const refused = await send(user, "НЕ ПРИМУТ этот текст");
    const behind = [await send(user, "следом 1"), await send(user, "следом 2")];
    await expect.poll(() => posted("следом").length, { timeout: 10_000 }).toBe(2);
    expect(posted("следом").map((m) => m.text?.slice(-8))).toEqual(["следом 1", "следом 2"]);
    expect(behind.every((r) => r.status === 200)).toBe(true);
    expect(refused.body.delivery).toBe("queued");

    // Tried as it was, then as plain text without entities, then set aside.
    const attempts = tg.callsTo("sendMessage").filter((c) => String(c.params.text).includes("НЕ ПРИМУТ"));
    expect(attempts.map((c) => c.ok)).toEqual([false, false]);
    expect(attempts[0]?.params.entities).not.toEqual([]);
    expect(attempts[1]?.params.entities ?? []).toEqual([]);
    const after = await health();
    expect(after.queue.depth).toBe(0);
    expect(after.queue.set_aside?.count).toBe(before + 1);
    expect(after.queue.set_aside?.latest_reason).toContain("message is too long");
    expect(await deliveryOf(refused.body.id)).toBe("set_aside");
    // ...and in /metrics, where an alert rule (README, "Operating it") watches it
    // (Prometheus scrapes an instance itself: nginx does not serve /metrics).
    const metrics = await (await fetch(`${t.instanceUrls[0]}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^outbox_set_aside_jobs\\{lane="telegram"\\} ${before + 1}$`, "m"));
    // One error line an operator can act on: why, and the command that sends it again.
    const jobId = (await t.app.db.sql.get<{ id: number }>("SELECT id FROM outbox WHERE message_id = ?", [refused.body.id]))?.id;
    expect(jobId).toBeTypeOf("number");
    const errors = logLines.map((l) => JSON.parse(l) as { level: number; msg: string; jobId?: number }).filter((e) => e.level === 50 && e.jobId === jobId);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toContain("message is too long");
    expect(errors[0]?.msg).toContain(`npm run outbox -- retry ${jobId}`);
    const history = await requestJson<{ messages: { message: string; direction: string }[] }>(`${t.url}/message_history/${user}`);
    expect(history.body.messages.filter((m) => m.direction === "user").map((m) => m.message)).toEqual(["НЕ ПРИМУТ этот текст", "следом 1", "следом 2"]);
  });

  test("a text refused for its formatting goes as plain text, in its place", async () => {
    const user = uniqueUser();
    tg.refuse({
      methods: ["sendMessage"],
      when: (p) => String(p.text).includes("ФОРМАТ") && Array.isArray(p.entities) && p.entities.length > 0,
      code: 400,
      description: "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 0",
    });
    const first = await send(user, "ФОРМАТ не понравился");
    await send(user, "после формата");
    await expect.poll(() => posted("после формата").length, { timeout: 10_000 }).toBe(1);
    const [plain, next] = tg.sent(GROUP).filter((m) => /ФОРМАТ|после формата/.test(m.text ?? ""));
    expect(plain?.text).toContain("ФОРМАТ не понравился");
    expect(plain?.text).toContain(`ID: ${user}`);
    expect(plain?.entities ?? []).toEqual([]);
    expect(next?.text).toContain("после формата");
    expect(await deliveryOf(first.body.id)).toBe("sent");
  });

  test("a photo refused as a file and then as a link is set aside with its reason in /health", async () => {
    const user = uniqueUser();
    // Telegram cannot fetch the photo; the text carrying its link is refused too.
    tg.refuse({ methods: ["sendMessage"], when: (p) => String(p.text).includes("broken.invalid"), code: 400, description: "Bad Request: TEXT_INVALID" });
    const before = (await health()).queue.set_aside?.count ?? 0;
    const photo = await send(user, "фото не пройдёт", { photo_url: "https://broken.invalid/p.jpg" });
    await send(user, "за фото");
    await expect.poll(() => posted("за фото").length, { timeout: 10_000 }).toBe(1);
    expect(tg.callsTo("sendPhoto").filter((c) => c.media[0]?.url === "https://broken.invalid/p.jpg").map((c) => c.ok)).toEqual([false]);
    expect(tg.callsTo("sendMessage").filter((c) => String(c.params.text).includes("broken.invalid")).map((c) => c.ok)).toEqual([false, false]);
    const after = await health();
    expect(after.queue.set_aside?.count).toBe(before + 1);
    expect(after.queue.set_aside?.latest_reason).toContain("TEXT_INVALID");
    expect(await deliveryOf(photo.body.id)).toBe("set_aside");
  });
});
