// The push port with the real firebase-admin library against the local FCM
// stand-in: what reaches "FCM", and how each token's answer is sorted.
import { getApps } from "firebase-admin/app";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../server/config/env.js";
import { createLogger, type Logger } from "../../server/logger.js";
import { createPush, type PushService } from "../../server/push/fcm-push.js";
import type { ChatMessage } from "../../server/support/types.js";
import { startFcmStandIn, writeFakeServiceAccount, type FakeServiceAccount, type FcmStandIn } from "../fixtures/fcm-stand-in.js";

interface CapturedLog {
  logger: Logger;
  lines: string[];
  entries(): Record<string, unknown>[];
}

/** The service's own logger, writing into memory. */
function captureLogs(): CapturedLog {
  const lines: string[] = [];
  const logger = createLogger({ level: "trace", secrets: [], destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** FCM registration tokens are ~160 characters; these look the part. */
const token = (name: string) => `${name}:APA91b${"x".repeat(140)}${name.length}`;

const reply: ChatMessage = {
  id: 42,
  userId: "user-7",
  text: "Здравствуйте! Мы проверили ваш заказ.",
  direction: "support",
  photoUrls: ["/uploads/ab12cd.jpg"],
  createdAt: new Date("2025-03-04T05:06:07.000Z"),
};

let standIn: FcmStandIn;
let account: FakeServiceAccount;
const allLogs: string[] = [];
const services: PushService[] = [];
const usedTokens = new Set<string>();

function makePush(options: { androidChannelId?: string } = {}): { push: PushService; logs: CapturedLog } {
  const logs = captureLogs();
  const config = parseConfig({ FCM_SERVICE_ACCOUNT_PATH: account.path });
  const push = createPush({ config, logger: logs.logger, transport: standIn.transport, ...options });
  services.push(push);
  return { push, logs };
}

/** A device token, remembered so the log check at the end can look for it. */
function device(name: string): string {
  const t = token(name);
  usedTokens.add(t);
  return t;
}

beforeAll(async () => {
  account = writeFakeServiceAccount({ projectId: "push-it-project" });
  standIn = await startFcmStandIn({ projectId: "push-it-project" });
});

afterEach(async () => {
  for (const service of services.splice(0)) {
    await service.close();
  }
  standIn.reset();
});

afterAll(async () => {
  await standIn.close();
  account.cleanup();
  // Nothing that can be used to send as us, or to reach a device, is ever logged.
  const text = allLogs.join("\n");
  expect(text).not.toContain("PRIVATE KEY");
  expect(text).not.toContain(account.privateKey.split("\n")[1]);
  expect(text).not.toContain(standIn.accessToken);
  for (const t of usedTokens) expect(text).not.toContain(t);
});

function keep(logs: CapturedLog): void {
  allLogs.push(...logs.lines);
}

describe("push through firebase-admin to the FCM stand-in", () => {
  it("delivers one message per token with notification, data and platform options", async () => {
    const { push, logs } = makePush({ androidChannelId: "support_chat" });
    const devices = ["phone-a", "phone-b", "tablet-c"].map(device);

    const outcome = await push.send(reply, devices);
    keep(logs);

    expect(push.enabled).toBe(true);
    expect(outcome).toEqual({ delivered: 3, invalid: [], retry: [] });
    expect(standIn.requests.map((r) => r.token).sort()).toEqual([...devices].sort());
    for (const request of standIn.requests) {
      expect(request.projectId).toBe("push-it-project");
      expect(request.authorization).toBe(`Bearer ${standIn.accessToken}`);
      expect(request.notification).toEqual({ title: "Новый ответ поддержки", body: "Здравствуйте! Мы проверили ваш заказ." });
      expect(request.data).toEqual({
        type: "support_message",
        message_id: "42",
        user_id: "user-7",
        direction: "support",
        created_at: "2025-03-04 05:06:07",
        photo_url: "/uploads/ab12cd.jpg",
      });
      // FCM v1 wire names: firebase-admin turns channelId into channel_id.
      expect(request.android).toEqual({ priority: "high", notification: { sound: "default", channel_id: "support_chat" } });
      expect(request.apns).toEqual({ headers: { "apns-priority": "10", "apns-push-type": "alert" }, payload: { aps: { sound: "default" } } });
    }
  });

  it("says photo-only and long messages in a notification-sized body", async () => {
    const { push, logs } = makePush();
    await push.send({ ...reply, id: 43, text: "", photoUrls: ["/uploads/1.jpg", "/uploads/2.jpg"] }, [device("photo-only")]);
    await push.send({ ...reply, id: 44, text: "слово ".repeat(100), photoUrls: [] }, [device("long-text")]);
    keep(logs);

    const [photo, long] = standIn.requests;
    expect(photo?.notification?.body).toBe("📷 Фото (2)");
    expect(photo?.data?.photo_url).toBe("/uploads/1.jpg");
    expect(String(long?.notification?.body).length).toBeLessThanOrEqual(200);
    expect(String(long?.notification?.body)).toMatch(/слово…$/);
    expect(long?.data).not.toHaveProperty("photo_url");
    expect(long?.android).toEqual({ priority: "high", notification: { sound: "default" } });
  });

  it("returns unregistered and invalid tokens as invalid, and keeps tokens FCM has no quarrel with", async () => {
    const { push, logs } = makePush();
    const [good, gone, malformed, badPayload] = [device("good"), device("uninstalled"), device("malformed"), device("bad-payload")];
    standIn.fail(gone, "unregistered");
    standIn.fail(malformed, "invalid-token");
    standIn.fail(badPayload, "bad-payload");

    const outcome = await push.send(reply, [good, gone, malformed, badPayload]);
    keep(logs);

    expect(outcome.delivered).toBe(1);
    expect([...outcome.invalid].sort()).toEqual([gone, malformed].sort());
    // A payload error is not the token's fault: not deleted, not retried, but logged as an error.
    expect(outcome.retry).toEqual([]);
    const failure = logs.entries().find((e) => e.msg === "push partly failed");
    expect(failure?.level).toBe(50);
    const codes = (failure?.failures as { code: string; tokenPrefix: string }[]).map((f) => f.code).sort();
    expect(codes).toEqual(["messaging/invalid-argument", "messaging/invalid-argument", "messaging/registration-token-not-registered"]);
    expect(JSON.stringify(failure)).toContain("uninstal…");
  });

  it("returns tokens that failed for a transient reason as retry", async () => {
    const { push, logs } = makePush();
    const [down, broken, throttled, cut, blip] = [device("down"), device("broken"), device("throttled"), device("cut"), device("blip")];
    standIn.fail(down, "unavailable");
    standIn.fail(broken, "internal");
    standIn.fail(throttled, "quota");
    standIn.fail(cut, "network");
    standIn.fail(blip, "unavailable", 1);

    const outcome = await push.send(reply, [down, broken, throttled, cut, blip]);
    keep(logs);

    expect([...outcome.retry].sort()).toEqual([down, broken, throttled, cut].sort());
    expect(outcome.invalid).toEqual([]);
    // firebase-admin retries a 503 by itself (4 more times, backing off), so one blip is delivered.
    expect(outcome.delivered).toBe(1);
    expect(standIn.requests.filter((r) => r.token === down)).toHaveLength(5);
    expect(standIn.requests.filter((r) => r.token === blip).map((r) => r.status)).toEqual([503, 200]);
    expect(logs.entries().find((e) => e.msg === "push partly failed")?.level).toBe(40);
  }, 30_000);

  it("sends each distinct token once, in batches of at most 500, and never sends an empty token", async () => {
    const { push, logs } = makePush();
    const many = Array.from({ length: 501 }, (_, i) => device(`bulk-${i}`));

    const outcome = await push.send(reply, [...many, ...many.slice(0, 3), "", "  "]);
    keep(logs);

    expect(outcome.delivered).toBe(501);
    expect(outcome.invalid).toEqual(["", "  "]);
    expect(new Set(standIn.requests.map((r) => r.token)).size).toBe(501);
    expect(standIn.requests).toHaveLength(501);
  });

  it("makes no request for a user without tokens", async () => {
    const { push, logs } = makePush();
    expect(await push.send(reply, [])).toEqual({ delivered: 0, invalid: [], retry: [] });
    keep(logs);
    expect(standIn.requests).toHaveLength(0);
  });

  it("runs several instances side by side and frees each Firebase app on close", async () => {
    const before = getApps().length;
    const first = makePush();
    const second = makePush();
    expect(getApps().length).toBe(before + 2);
    const [a, b] = [device("first-app"), device("second-app")];
    expect((await first.push.send(reply, [a])).delivered).toBe(1);
    expect((await second.push.send(reply, [b])).delivered).toBe(1);

    const inFlight = first.push.send(reply, [a]);
    await first.push.close();
    // close() waited for the send in flight; after it, sends are kept for a retry instead.
    expect((await inFlight).delivered).toBe(1);
    expect(await first.push.send(reply, [a])).toEqual({ delivered: 0, invalid: [], retry: [a] });
    await first.push.close();
    expect(getApps().length).toBe(before + 1);
    keep(first.logs);
    keep(second.logs);
  });

  it("builds the production credential from the service account file", async () => {
    const logs = captureLogs();
    const config = parseConfig({ FCM_SERVICE_ACCOUNT_PATH: account.path });
    // No transport: cert(serviceAccount) and the service's own agent. Nothing is sent, so nothing leaves the machine.
    const push = createPush({ config, logger: logs.logger });
    expect(push.enabled).toBe(true);
    await push.close();
    keep(logs);
    expect(logs.entries().map((e) => e.msg)).toEqual(["push notifications are on"]);
  });
});

describe("push without a service account", () => {
  it("is disabled, answers every send with nothing done, and says so in exactly one log line", async () => {
    const logs = captureLogs();
    const push = createPush({ config: parseConfig({}), logger: logs.logger });

    expect(push.enabled).toBe(false);
    for (let i = 0; i < 3; i++) {
      expect(await push.send(reply, [device(`off-${i}`)])).toEqual({ delivered: 0, invalid: [], retry: [] });
    }
    await push.close();
    keep(logs);

    expect(logs.lines).toHaveLength(1);
    expect(logs.entries()[0]?.msg).toContain("FCM_SERVICE_ACCOUNT_PATH is not set");
  });
});
