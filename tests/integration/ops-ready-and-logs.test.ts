// What an operator's tools see: /ready against /health, one access line
// per request carrying a request id that every line of the request shares,
// and Socket.IO long-polling answered by Socket.IO alone.
import { afterEach, describe, expect, test } from "vitest";
import { createLogger } from "../../server/logger.js";
import { requestJson } from "../fixtures/http.js";
import { loseDatabase, startTestApp, type TestApp } from "../fixtures/test-app.js";

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function start(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const t = await startTestApp(options);
  apps.push(t);
  return t;
}

function capturingLogger(level: "info" | "debug" = "info") {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createLogger({
    level,
    secrets: [],
    destination: {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, raw };
}

describe("GET /ready", () => {
  test("200 while the database answers, 503 with the reason once it does not", async () => {
    const t = await start();
    const ready = await requestJson(`${t.url}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ready" });

    await loseDatabase(t.app.db);
    const down = await requestJson<{ status: string; reason: string }>(`${t.url}/ready`);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe("not_ready");
    expect(down.body.reason).toMatch(/^database: /);
  });
});

describe("access log", () => {
  test("one line per request with method, route pattern, status and duration; the id is echoed", async () => {
    const { logger, lines, raw } = capturingLogger();
    const t = await start({ logger });
    const response = await fetch(`${t.url}/message_history/secret-user-41?limit=3&api_key=query-secret-99`, { headers: { "X-Request-Id": "lb-4f2a.77" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("lb-4f2a.77");

    await expect.poll(() => lines.filter((l) => l.msg === "request")).toHaveLength(1);
    const line = lines.find((l) => l.msg === "request");
    expect(line).toMatchObject({ level: 30, requestId: "lb-4f2a.77", method: "GET", route: "/message_history/:user_id", status: 200 });
    expect(typeof line?.durationMs).toBe("number");
    // The pattern only: neither the user id of the path nor anything of the query string.
    const text = raw.join("");
    expect(text).not.toContain("secret-user-41");
    expect(text).not.toContain("query-secret-99");
  });

  test("a malformed incoming id is replaced by a generated one", async () => {
    const t = await start();
    const response = await fetch(`${t.url}/health`, { headers: { "X-Request-Id": 'forged" level=60' } });
    const id = response.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const other = (await fetch(`${t.url}/health`)).headers.get("x-request-id");
    expect(other).not.toBe(id);
  });

  test("a line written while the request is handled carries the request's id", async () => {
    const { logger, lines } = capturingLogger();
    const t = await start({ logger });
    // A handler failure is logged by the service deep inside the request: the database is gone.
    await loseDatabase(t.app.db);
    const response = await fetch(`${t.url}/message_history/user-7`, { headers: { "X-Request-Id": "trace-me-1" } });
    expect(response.status).toBe(500);
    await expect.poll(() => lines.filter((l) => l.msg === "request")).toHaveLength(1);
    const failure = lines.find((l) => l.msg === "request failed");
    expect(failure).toMatchObject({ level: 50, requestId: "trace-me-1" });
    expect(lines.find((l) => l.msg === "request")).toMatchObject({ requestId: "trace-me-1", status: 500 });
    // Lines outside any request carry no id.
    expect(lines.filter((l) => l.msg !== "request" && l.msg !== "request failed").every((l) => l.requestId === undefined)).toBe(true);
  });

  test("monitors' endpoints log at debug, not info", async () => {
    const { logger, lines } = capturingLogger("debug");
    const t = await start({ logger });
    await fetch(`${t.url}/health`);
    await fetch(`${t.url}/ready`);
    await fetch(`${t.url}/metrics`);
    await fetch(`${t.url}/check_device/u-1`);
    await expect.poll(() => lines.filter((l) => l.msg === "request")).toHaveLength(4);
    const levelOf = (route: string) => lines.find((l) => l.msg === "request" && l.route === route)?.level;
    expect([levelOf("/health"), levelOf("/ready"), levelOf("/metrics")]).toEqual([20, 20, 20]);
    expect(levelOf("/check_device/:user_id")).toBe(30);
  });
});

describe("Socket.IO long-polling", () => {
  test("the handshake is answered by Socket.IO, not with a 404 from the service's router", async () => {
    const t = await start();
    const response = await fetch(`${t.url}/socket.io/?EIO=4&transport=polling`);
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toMatch(/^0\{"sid":"/);
  });
});
