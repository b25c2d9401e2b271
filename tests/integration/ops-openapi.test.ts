// GET /openapi.json: the document is valid OpenAPI 3.1 (checked by a
// maintained validator), every route the service registers for the mobile
// API and the operator is in it, and real answers of every route, success
// and error, captured over HTTP from a running service, match the
// document's response schemas (Ajv, JSON Schema 2020-12).
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makePng } from "../fixtures/images.js";
import { photoForm } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { loseDatabase, startTestApp, type TestApp } from "../fixtures/test-app.js";

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const GROUP = -1001234567890;
const KEY = "openapi-test-api-key";

interface Captured {
  method: string;
  /** the document's path template */
  path: string;
  status: number;
  contentType: string;
  body: unknown;
}

type Document = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
};

let tg: TelegramStandIn;
let t: TestApp;
let guarded: TestApp;
let doc: Document;
const captured: Captured[] = [];

/** Sends a request to `app` and keeps its answer for the schema check. */
async function call(app: TestApp, method: string, path: string, url: string, init: RequestInit = {}): Promise<Captured> {
  const response = await fetch(`${app.url}${url}`, { method, ...init });
  const contentType = response.headers.get("content-type") ?? "";
  const bytes = Buffer.from(await response.arrayBuffer());
  const body: unknown = contentType.startsWith("application/json") ? JSON.parse(bytes.toString("utf8")) : contentType.startsWith("text/") ? bytes.toString("utf8") : bytes;
  const entry = { method: method.toLowerCase(), path, status: response.status, contentType, body };
  captured.push(entry);
  return entry;
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({ headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: { ...tg.envFor(GROUP), TELEGRAM_MODE: "webhook", TELEGRAM_WEBHOOK_SECRET: "openapi-secret" },
    botInfo: tg.botInfo,
  });
  guarded = await startTestApp({
    env: { API_KEY: KEY },
    rateLimits: { perIp: { read: { points: 1, windowSeconds: 60 } } },
  });
  doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as Document;

  // /send_message: JSON, a form with a photo, and each error it documents.
  const sent = await call(t, "POST", "/send_message", "/send_message", json({ user_id: "oa-user", message: "Здравствуйте", client_message_id: "oa-1" }));
  expect(sent.status).toBe(200);
  const form = await call(t, "POST", "/send_message", "/send_message", { body: photoForm({ user_id: "oa-user", message: "фото" }, [{ bytes: makePng(), name: "a.png", type: "image/png" }]) });
  expect(form.status).toBe(200);
  expect((await call(t, "POST", "/send_message", "/send_message", json({ message: "no user" }))).status).toBe(400);
  expect((await call(t, "POST", "/send_message", "/send_message", { headers: { "content-type": "text/plain" }, body: "hello" })).status).toBe(415);
  expect((await call(t, "POST", "/send_message", "/send_message", json({ user_id: "oa-user", message: "x".repeat(300_000) }))).status).toBe(413);
  expect((await call(guarded, "POST", "/send_message", "/send_message", json({ user_id: "oa-user", message: "no key" }))).status).toBe(401);

  expect((await call(t, "POST", "/register_device", "/register_device", json({ user_id: "oa-user", fcm_token: "oa-token", platform: "android" }))).status).toBe(200);
  expect((await call(t, "POST", "/register_device", "/register_device", json({ user_id: "oa-user" }))).status).toBe(400);

  expect((await call(t, "GET", "/message_history/{user_id}", "/message_history/oa-user?limit=10&user_name=Анна")).status).toBe(200);
  expect((await call(t, "GET", "/message_history/{user_id}", `/message_history/${"u".repeat(200)}`)).status).toBe(400);
  expect((await call(t, "GET", "/message_history", "/message_history")).status).toBe(400);
  expect((await call(guarded, "GET", "/message_history/{user_id}", "/message_history/oa-user", { headers: { "X-API-Key": KEY } })).status).toBe(200);
  expect((await call(guarded, "GET", "/message_history/{user_id}", "/message_history/oa-user", { headers: { "X-API-Key": KEY } })).status).toBe(429);

  expect((await call(t, "GET", "/check_device/{user_id}", "/check_device/oa-user")).status).toBe(200);
  expect((await call(t, "GET", "/check_device", "/check_device")).status).toBe(400);

  // Read state (SPEC §7): the greeting the history request above added is a support message to read.
  const greeting = (await (await fetch(`${t.url}/message_history/oa-user`)).json()) as { messages: { id: number; direction: string }[] };
  const upTo = greeting.messages.filter((m) => m.direction === "support").at(-1)?.id ?? 1;
  expect((await call(t, "POST", "/mark_read", "/mark_read", json({ user_id: "oa-user", up_to_id: upTo }))).status).toBe(200);
  expect((await call(t, "POST", "/mark_read", "/mark_read", json({ user_id: "oa-user", up_to_id: -1 }))).status).toBe(400);
  expect((await call(t, "GET", "/unread_count/{user_id}", "/unread_count/oa-user")).status).toBe(200);
  expect((await call(t, "GET", "/unread_count", "/unread_count")).status).toBe(400);

  expect((await call(t, "GET", "/health", "/health")).status).toBe(200);
  const photoUrl = (sent.body as { photo_url: string | null }).photo_url ?? (form.body as { photo_url: string }).photo_url;
  expect((await call(t, "GET", "/uploads/{filename}", new URL(photoUrl, t.url).pathname)).status).toBe(200);
  expect((await call(t, "GET", "/uploads/{filename}", "/uploads/nothing-here.png")).status).toBe(404);

  expect((await call(t, "GET", "/metrics", "/metrics")).status).toBe(200);
  expect((await call(guarded, "GET", "/metrics", "/metrics")).status).toBe(401);
  expect((await call(t, "GET", "/openapi.json", "/openapi.json")).status).toBe(200);
  expect((await call(t, "GET", "/ready", "/ready")).status).toBe(200);
  await loseDatabase(guarded.app.db);
  expect((await call(guarded, "GET", "/ready", "/ready")).status).toBe(503);
}, 30_000);

afterAll(async () => {
  await t?.close();
  await guarded?.close();
  await tg?.close();
});

describe("GET /openapi.json", () => {
  test("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect((doc as unknown as { openapi: string }).openapi).toBe("3.1.0");
  });

  test("documents every route the service registers for the mobile API and the operator", () => {
    // §4 (Telegram webhook), §5 (Mini App: tRPC, diary REST) have their own clients; "/uploads/*" is the 404 for nested names.
    const undocumented = new Set(["/uploads/*"]);
    const routes = t.app.router.list().filter((r) => !r.pattern.startsWith("/api/") && !undocumented.has(r.pattern));
    expect(routes.length).toBeGreaterThanOrEqual(11);
    for (const route of routes) {
      const path = route.pattern.replace(/:([A-Za-z_]+)/g, "{$1}");
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.pattern}`).toBeDefined();
    }
  });

  test("every captured answer matches the document's schema for its route and status", () => {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
    const operations = new Set<string>();
    for (const answer of captured) {
      const operation = doc.paths[answer.path]?.[answer.method];
      expect(operation, `${answer.method} ${answer.path} is documented`).toBeDefined();
      const response = operation?.responses[String(answer.status)] ?? operation?.responses.default;
      expect(response, `${answer.method} ${answer.path} documents ${answer.status}`).toBeDefined();
      operations.add(`${answer.method} ${answer.path}`);
      const content = response?.content ?? {};
      const mediaType = Object.keys(content).find((type) => type === answer.contentType.split(";")[0] || answer.contentType.startsWith(type.split(";")[0] as string) || (type.endsWith("/*") && answer.contentType.startsWith(type.slice(0, -1))));
      expect(mediaType, `${answer.method} ${answer.path} ${answer.status} documents ${answer.contentType}`).toBeDefined();
      if (Buffer.isBuffer(answer.body)) continue;
      const validate = ajv.compile(content[mediaType as string]?.schema as object);
      const valid = validate(answer.body);
      expect(valid, `${answer.method} ${answer.path} ${answer.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(true);
    }
    // Every documented operation was exercised at least once.
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect([...operations].sort()).toEqual(documented.sort());
  });

  test("the schemas refuse what the service refuses", () => {
    const ajv = addFormats(new Ajv2020({ strict: false }));
    const sendSchema = (doc.paths["/send_message"]?.post as unknown as { requestBody: { content: Record<string, { schema: object }> } }).requestBody.content["application/json"]?.schema as object;
    const validate = ajv.compile(sendSchema);
    expect(validate({ user_id: "u-1", message: "hi" })).toBe(true);
    expect(validate({ user_id: 42, message: "hi" })).toBe(true);
    expect(validate({ message: "no user" })).toBe(false);
    expect(validate({ user_id: "u-1", message: "x".repeat(16_385) })).toBe(false);
    const historyAnswer = doc.paths["/message_history/{user_id}"]?.get?.responses["200"]?.content?.["application/json"]?.schema as object;
    expect(ajv.validate(historyAnswer, { success: true, messages: [{ id: 1 }], greeting_sent: false })).toBe(false);
  });
});
