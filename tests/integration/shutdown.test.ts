// Shutdown under load: the deadline of app.close bounds the wait for
// requests, but never closes the database under a send in flight (its
// outcome must be recorded, or the post goes out twice after the restart);
// and push.close() returns within its grace even when FCM stalls.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../server/config/env.js";
import { createPush } from "../../server/push/fcm-push.js";
import { startFcmStandIn, writeFakeServiceAccount } from "../fixtures/fcm-stand-in.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { quietLogger, startTestApp } from "../fixtures/test-app.js";

const GROUP = -1005550003333;
let tg: TelegramStandIn;
let dir: string;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  dir = mkdtempSync(path.join(tmpdir(), "shutdown-"));
});
afterAll(async () => {
  await tg.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("app.close", () => {
  test("a Telegram send in flight at the deadline is finished and recorded, and is not sent again after the restart", async () => {
    const env = { ...tg.envFor(GROUP) };
    const text = "на краю дедлайна";
    const first = await startTestApp({ env, dir, botInfo: tg.botInfo, sendWaitMs: 50 });
    tg.setDelay(1_200);
    try {
      const answer = await postJson<{ delivery: string }>(`${first.url}/send_message`, { user_id: "close-user", message: text });
      expect(answer.body.delivery).toBe("queued");
      await expect.poll(() => tg.calls.some((c) => c.method === "sendMessage" && String(c.params.text).includes(text))).toBe(true);
      const started = performance.now();
      await first.app.close(200);
      const call = tg.calls.find((c) => c.method === "sendMessage" && String(c.params.text).includes(text));
      // close() waited for Telegram's answer, well past its 200 ms deadline.
      expect(call?.answeredAt).toBeDefined();
      expect(call?.answeredAt ?? Infinity).toBeLessThan(performance.now());
      expect(performance.now() - started).toBeGreaterThan(500);
    } finally {
      tg.setDelay(0);
      await first.app.close();
    }

    const second = await startTestApp({ env, dir, botInfo: tg.botInfo });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const health = await requestJson<{ queue: { depth: number } }>(`${second.url}/health`);
      expect(health.body.queue.depth).toBe(0);
      expect(tg.sent(GROUP).filter((m) => m.text?.includes(text))).toHaveLength(1);
    } finally {
      await second.app.close();
    }
  });
});

describe("push.close", () => {
  test("returns within its grace while FCM does not answer", async () => {
    const account = writeFakeServiceAccount({ projectId: "close-project" });
    const fcm = await startFcmStandIn({ projectId: "close-project" });
    try {
      const push = createPush({ config: parseConfig({ FCM_SERVICE_ACCOUNT_PATH: account.path }), logger: quietLogger(), transport: fcm.transport });
      fcm.fail("*", "hang");
      const sending = push.send({ id: 1, userId: "u", text: "алло", direction: "support", photoUrls: [], createdAt: new Date() }, [`stalled:APA91b${"x".repeat(140)}`]);
      await expect.poll(() => fcm.requests.length).toBe(1);
      const started = performance.now();
      await push.close(300);
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(2_000);
      void sending.catch(() => undefined);
    } finally {
      await fcm.close();
      account.cleanup();
    }
  });
});
