// Two processes on one database (a rolling restart; a SQLite file, or
// PostgreSQL with TEST_ENGINE=postgres): only the holder of
// the sender lease posts into the group; the other answers requests and
// queues, and takes over when the first stops (at once on SIGTERM, within
// the lease's TTL on SIGKILL), delivering what is queued once, in order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { SENDER_LEASE_TTL_MS } from "../../server/app.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { spawnApp, type AppProcess } from "../fixtures/spawn-app.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { databaseUrlFor } from "../fixtures/test-app.js";

const GROUP = -1004455667788;
let tg: TelegramStandIn;
let dir: string;
const running: AppProcess[] = [];

beforeAll(async () => {
  tg = await startTelegramStandIn();
  dir = mkdtempSync(path.join(tmpdir(), "solo-lease-"));
});
afterEach(async () => {
  tg.setDown(false);
  tg.setDelay(0);
  for (const app of running.splice(0)) {
    app.child.kill("SIGKILL");
    await app.exited;
  }
});
afterAll(async () => {
  await tg.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A process on the database `db` names (the same name, the same database), on the engine under test. */
async function start(db: string, instance: string): Promise<AppProcess> {
  const app = await spawnApp({
    ...tg.envFor(GROUP),
    DATABASE_URL: await databaseUrlFor(path.join(dir, db)),
    UPLOAD_DIR: path.join(dir, "uploads"),
    TEST_BOT_INFO: JSON.stringify(tg.botInfo),
    INSTANCE_ID: instance,
  });
  running.push(app);
  return app;
}

const health = async (app: AppProcess) => (await requestJson<{ instance: string; leader: boolean; queue: { depth: number } }>(`${app.url}/health`)).body;
const posted = (prefix: string) => tg.sent(GROUP).flatMap((m) => (m.text?.includes(prefix) ? [m.text.slice(m.text.indexOf(prefix))] : []));

async function send(app: AppProcess, text: string): Promise<string> {
  const res = await postJson<{ delivery: string }>(`${app.url}/send_message`, { user_id: "rolling-user", message: text });
  expect(res.status).toBe(200);
  return res.body.delivery;
}

test("only the lease holder sends; on SIGTERM the other takes over at once and delivers the queue once, in order", async () => {
  const first = await start("term", "first");
  const second = await start("term", "second");
  expect(await health(first)).toMatchObject({ instance: "first", leader: true });
  expect(await health(second)).toMatchObject({ instance: "second", leader: false });

  // Accepted by either, sent by the holder only: a backlog that both
  // processes see when Telegram comes back (slowly) goes out once.
  tg.setDown(true);
  const before = Array.from({ length: 6 }, (_, i) => `term-0${i}`);
  for (const [i, text] of before.entries()) expect(await send(i % 2 === 0 ? first : second, text)).toBe("queued");
  tg.setDelay(150);
  tg.setDown(false);
  await expect.poll(async () => (await health(second)).queue.depth, { timeout: 15_000, interval: 100 }).toBe(0);
  tg.setDelay(0);
  expect(posted("term-")).toEqual(before);

  // Queued while Telegram is away, then the holder stops (a rolling restart).
  tg.setDown(true);
  const queued = Array.from({ length: 6 }, (_, i) => `term-q${i}`);
  for (const [i, text] of queued.entries()) expect(await send(i % 2 === 0 ? first : second, text)).toBe("queued");
  first.child.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  const stoppedAt = Date.now();
  tg.setDown(false);

  await expect.poll(async () => (await health(second)).leader, { timeout: SENDER_LEASE_TTL_MS, interval: 100 }).toBe(true);
  // Given up, not expired: the takeover needs one renewal tick (TTL/3), not the TTL.
  expect(Date.now() - stoppedAt).toBeLessThan(SENDER_LEASE_TTL_MS / 3 + 2_000);
  await expect.poll(() => posted("term-").length, { timeout: 10_000 }).toBe(before.length + queued.length);
  expect(posted("term-")).toEqual([...before, ...queued]);
  expect((await health(second)).queue.depth).toBe(0);
}, 60_000);

test("after a SIGKILL of the holder the other takes over within the TTL and delivers the queue once, in order", async () => {
  const first = await start("kill", "first");
  const second = await start("kill", "second");
  expect((await health(first)).leader).toBe(true);

  tg.setDown(true);
  const queued = Array.from({ length: 6 }, (_, i) => `kill-q${i}`);
  for (const [i, text] of queued.entries()) expect(await send(i % 2 === 0 ? first : second, text)).toBe("queued");
  first.child.kill("SIGKILL");
  await first.exited;
  const killedAt = Date.now();
  tg.setDown(false);

  // The dead holder's lease runs out on the database's clock; nobody sends before.
  await expect.poll(async () => (await health(second)).leader, { timeout: 15_000, interval: 100 }).toBe(true);
  const tookOverMs = Date.now() - killedAt;
  // Not before the dead holder's last renewal ran out (it renewed at most TTL/3 before the kill).
  expect(tookOverMs).toBeGreaterThan((SENDER_LEASE_TTL_MS * 2) / 3 - 500);
  expect(tookOverMs).toBeLessThan(15_000);
  await expect.poll(() => posted("kill-").length, { timeout: 10_000 }).toBe(queued.length);
  expect(posted("kill-")).toEqual(queued);
  // Delivered within SPEC's 15 s of the kill.
  expect(Date.now() - killedAt).toBeLessThan(15_000);
}, 60_000);
