// Nothing a user sent is lost: messages queued while Telegram is down
// survive a SIGKILL of the process and go out once, in order, after the
// restart; retries with one idempotency key store one message; SIGTERM
// finishes in-flight work and exits within its bound.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson, requestJson } from "../fixtures/http.js";
import { spawnApp } from "../fixtures/spawn-app.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { databaseUrlFor, startTestApp } from "../fixtures/test-app.js";

const GROUP = -1009876543210;
let tg: TelegramStandIn;
let dir: string;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  dir = mkdtempSync(path.join(tmpdir(), "support-durability-"));
});
afterAll(async () => {
  await tg.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The env of a spawned app on its own database (`name`), on the engine under test; the same name finds the same database after a restart. */
async function telegramEnv(name: string): Promise<Record<string, string>> {
  return {
    ...tg.envFor(GROUP),
    DATABASE_URL: await databaseUrlFor(path.join(dir, name)),
    UPLOAD_DIR: path.join(dir, "uploads"),
    TEST_BOT_INFO: JSON.stringify(tg.botInfo),
  };
}

describe("SIGKILL while messages are queued", () => {
  test("every queued message is delivered once, in order, after the restart", async () => {
    tg.setDown(true);
    const first = await spawnApp(await telegramEnv("kill"));
    const texts = Array.from({ length: 12 }, (_, i) => `durable-${String(i).padStart(2, "0")}`);
    for (const text of texts) {
      const res = await postJson<{ delivery: string }>(`${first.url}/send_message`, { user_id: "kill-user", message: text });
      expect(res.body.delivery).toBe("queued");
    }
    expect((await requestJson<{ queue: { depth: number } }>(`${first.url}/health`)).body.queue.depth).toBe(12);
    first.child.kill("SIGKILL");
    await first.exited;

    tg.setDown(false);
    const second = await spawnApp(await telegramEnv("kill"));
    try {
      await expect.poll(() => tg.sent(GROUP).filter((m) => m.text?.includes("durable-")).length, { timeout: 15_000 }).toBe(12);
      const delivered = tg.sent(GROUP).filter((m) => m.text?.includes("durable-")).map((m) => m.text?.slice(-10));
      expect(delivered).toEqual(texts);
      await expect.poll(async () => (await requestJson<{ queue: { depth: number } }>(`${second.url}/health`)).body.queue.depth).toBe(0);
      const history = await requestJson<{ messages: { message: string }[] }>(`${second.url}/message_history/kill-user`);
      expect(history.body.messages.filter((m) => m.message.startsWith("durable-")).map((m) => m.message)).toEqual(texts);
    } finally {
      second.child.kill("SIGKILL");
      await second.exited;
    }
  });
});

describe("SIGTERM", () => {
  test("finishes the request in flight, closes cleanly and exits within the bound", async () => {
    tg.setDown(false);
    tg.setDelay(600);
    const app = await spawnApp(await telegramEnv("term"));
    try {
      const inFlight = postJson<{ delivery: string; message_id: number | null }>(`${app.url}/send_message`, { user_id: "term-user", message: "в полёте" });
      await new Promise((r) => setTimeout(r, 150));
      app.child.kill("SIGTERM");
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body.delivery).toBe("sent");
      expect(await app.exited).toBe(0);
      expect(app.output()).toMatch(/CLOSED \d+/);
      const closedIn = Number(/CLOSED (\d+)/.exec(app.output())?.[1]);
      expect(closedIn).toBeLessThan(10_000);
      await expect(fetch(`${app.url}/health`)).rejects.toThrow();
    } finally {
      tg.setDelay(0);
      app.child.kill("SIGKILL");
    }
  });
});

describe("idempotency", () => {
  test("20 concurrent posts with one key store one message and give one answer", async () => {
    const t = await startTestApp({ env: { ...tg.envFor(GROUP) }, botInfo: tg.botInfo });
    try {
      const before = tg.sent(GROUP).length;
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? postJson<{ id: number; message_id: number | null }>(`${t.url}/send_message`, { user_id: "idem", message: "один раз", client_message_id: "key-1" })
            : postJson<{ id: number; message_id: number | null }>(`${t.url}/send_message`, { user_id: "idem", message: "один раз" }, { "Idempotency-Key": "key-1" }),
        ),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
      const stored = await t.app.db.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE user_id = 'idem'");
      expect(stored?.n).toBe(1);
      await expect.poll(() => tg.sent(GROUP).length - before).toBe(1);
      // A later retry, after the first answer was recorded, gets it again.
      const retry = await postJson(`${t.url}/send_message`, { user_id: "idem", message: "один раз", client_message_id: "key-1" });
      expect(retry.body).toEqual(answers[0]?.body);
      // The key is per user: another user with the same key is a new message.
      const other = await postJson<{ id: number }>(`${t.url}/send_message`, { user_id: "idem-2", message: "другой", client_message_id: "key-1" });
      expect(other.body.id).not.toBe(answers[0]?.body.id);
    } finally {
      await t.close();
    }
  });
});
