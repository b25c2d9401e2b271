// Group → user through the webhook route: the real grammY Bot against the
// Telegram stand-in, a real SQLite database for dedupe, real uploads. Only
// the lead's services (mapping lookup, storing the reply) are faked here.
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Bot } from "grammy";
import sharp from "sharp";
import type { Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrationsDirFor, openDatabase, type Db } from "../../server/db/database.js";
import { Router } from "../../server/http/router.js";
import { createLogger } from "../../server/logger.js";
import { UploadStore } from "../../server/storage/uploads.js";
import { supportGroupTest } from "../../server/telegram/group-messages.js";
import { createSupportReplies, type SupportReplyInput } from "../../server/telegram/support-replies.js";
import { createWebhookHandler, handleTelegramHealth } from "../../server/telegram/webhook.js";
import { carriesLocation, leftRedRightBlue, photoWithLocation } from "../fixtures/images.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { databaseUrlFor, PROJECT_ROOT, testEngine } from "../fixtures/test-app.js";

const GROUP = -1009876543210;
const SECRET = "hook-Secret_123";
const INSTANCE = "hook-test";
// An agent's phone photo: taken sideways (Orientation 6), with its location in Exif, XMP, IPTC and a comment.
const JPEG = await photoWithLocation("jpeg", { width: 60, height: 40, orientation: 6, pixels: leftRedRightBlue(60, 40) });
const logger = createLogger({ level: "silent", secrets: [] });

interface Harness {
  tg: TelegramStandIn;
  db: Db;
  dir: string;
  server: Server;
  url: string;
  replies: SupportReplyInput[];
  mapping: Map<number, string>;
  failNextReply: number;
  replyDelayMs: number;
  ackBudgetMs: number;
  maxPhotoBytes?: number;
}

let h: Harness;

async function serve(): Promise<void> {
  const uploads = new UploadStore(path.join(h.dir, "uploads"));
  const bot = new Bot(h.tg.token, { botInfo: h.tg.botInfo, client: { apiRoot: h.tg.apiRoot } });
  bot.use(
    createSupportReplies({
      isSupportGroup: supportGroupTest(String(GROUP)),
      userForPost: async (chatId, id) => (chatId === GROUP ? (h.mapping.get(id) ?? null) : null),
      addSupportReply: async (input) => {
        if (h.replyDelayMs > 0) await new Promise((r) => setTimeout(r, h.replyDelayMs));
        if (h.failNextReply > 0) {
          h.failNextReply -= 1;
          throw new Error("store unavailable");
        }
        h.replies.push(input);
        return input;
      },
      savePhoto: (bytes, name) => uploads.saveBuffer(bytes, name),
      logger,
      maxPhotoBytes: h.maxPhotoBytes,
    }),
  );
  const handler = createWebhookHandler({ bot, secret: SECRET, sql: h.db.sql, logger, ackBudgetMs: h.ackBudgetMs, instanceId: INSTANCE });
  const router = new Router()
    .on("POST", "/api/telegram/webhook", ({ req, res }) => handler(req, res))
    .on("GET", "/api/telegram/health", ({ req, res }) => handleTelegramHealth(req, res));
  h.server = createServer((req, res) => {
    const match = router.match(req.method ?? "GET", (req.url ?? "/").split("?")[0] ?? "/");
    if (match && match !== "method") void match.handler({ req, res, url: new URL(req.url ?? "/", "http://x"), params: match.params });
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => h.server.listen(0, "127.0.0.1", resolve));
  h.url = `http://127.0.0.1:${(h.server.address() as AddressInfo).port}`;
}

async function stopServer(): Promise<void> {
  h.server.closeAllConnections();
  await new Promise<void>((resolve) => h.server.close(() => resolve()));
}

beforeEach(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "tg-webhook-"));
  const tg = await startTelegramStandIn();
  const url = await databaseUrlFor(dir);
  const db = await openDatabase({ url, migrationsDir: migrationsDirFor(url, PROJECT_ROOT) });
  h = { tg, db, dir, server: createServer(), url: "", replies: [], mapping: new Map(), failNextReply: 0, replyDelayMs: 0, ackBudgetMs: 5000 };
  await serve();
});

afterEach(async () => {
  await stopServer();
  await h.db.close();
  await h.tg.close();
  rmSync(h.dir, { recursive: true, force: true });
});

function post(body: unknown, opts: { secret?: string | null; query?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const secret = opts.secret === undefined ? SECRET : opts.secret;
  if (secret !== null && opts.query === undefined) headers["x-telegram-bot-api-secret-token"] = secret;
  return fetch(`${h.url}/api/telegram/webhook${opts.query ?? ""}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

/** The bot posts a message for `userId` into the group, as the outbound side would. */
async function postedFor(userId: string): Promise<number> {
  const bot = new Bot(h.tg.token, { botInfo: h.tg.botInfo, client: { apiRoot: h.tg.apiRoot } });
  const message = await bot.api.sendMessage(GROUP, `message from ${userId}`);
  h.mapping.set(message.message_id, userId);
  return message.message_id;
}

const processedRows = async () => (await h.db.prisma.processedUpdate.findMany()).map((r) => Number(r.updateId));
const claimRow = (updateId: number) => h.db.prisma.processedUpdate.findUnique({ where: { updateId: BigInt(updateId) } });
/** a claim on `updateId` as another instance leaves it, expiring `inMs` from now */
const claimedElsewhere = (updateId: number, inMs: number) =>
  h.db.prisma.processedUpdate.create({ data: { updateId: BigInt(updateId), state: "claimed", claimedBy: "other-instance/0badc0de", claimExpiresAt: new Date(Date.now() + inMs) } });

describe("POST /api/telegram/webhook", () => {
  it("turns an agent's text reply into a support message (secret in the header)", async () => {
    const posted = await postedFor("user-1");
    const update = h.tg.updates.groupText({ chatId: GROUP, text: "Hello from support", replyTo: posted });
    const res = await post(update);
    expect([res.status, await res.json()]).toEqual([200, { ok: true }]);
    expect(h.replies).toEqual([{ userId: "user-1", text: "Hello from support", photoUrls: [], chatId: GROUP, telegramMessageId: update.message?.message_id }]);
    expect(await processedRows()).toEqual([update.update_id]);
  });

  it("accepts the secret as ?secret= and refuses a wrong or missing one with 401", async () => {
    const posted = await postedFor("user-2");
    const wrong = await post(h.tg.updates.groupText({ chatId: GROUP, text: "x", replyTo: posted }), { secret: "nope" });
    const missing = await post(h.tg.updates.groupText({ chatId: GROUP, text: "y", replyTo: posted }), { secret: null });
    const wrongQuery = await post(h.tg.updates.groupText({ chatId: GROUP, text: "z", replyTo: posted }), { query: "?secret=hook-Secret_12" });
    expect([wrong.status, missing.status, wrongQuery.status]).toEqual([401, 401, 401]);
    expect(await wrong.json()).toMatchObject({ success: false });
    expect(h.replies).toEqual([]);
    expect(await processedRows()).toEqual([]);
    const ok = await post(h.tg.updates.groupText({ chatId: GROUP, text: "via query", replyTo: posted }), { query: `?secret=${SECRET}` });
    expect(ok.status).toBe(200);
    expect(h.replies.map((r) => r.text)).toEqual(["via query"]);
  });

  it("processes a redelivered update once, also when copies arrive together and after a restart", async () => {
    const posted = await postedFor("user-3");
    const update = h.tg.updates.groupText({ chatId: GROUP, text: "once", replyTo: posted });
    h.replyDelayMs = 150; // keeps the first copy busy while the others arrive
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => post(update)));
    expect(concurrent.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    h.replyDelayMs = 0;
    expect((await post(update)).status).toBe(200);
    await stopServer();
    await serve(); // a new handler: only the database remembers
    expect((await post(update)).status).toBe(200);
    expect(h.replies).toHaveLength(1);
  });

  it("answers 400 to malformed JSON or a body that is not an update, 413 to an oversize body", async () => {
    const responses = await Promise.all([post("{not json"), post([1, 2]), post({ message: {} }), post({ update_id: "7" }), post("")]);
    expect(responses.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    for (const r of responses) expect(await r.json()).toMatchObject({ success: false });
    const big = await post({ update_id: 1, padding: "x".repeat(1024 * 1024) });
    expect(big.status).toBe(413);
  });

  it("ignores other chats, unmapped messages, non-replies and edits", async () => {
    const posted = await postedFor("user-4");
    const agentsOwn = h.tg.updates.groupText({ chatId: GROUP, text: "agent note" });
    const unmapped = (await new Bot(h.tg.token, { botInfo: h.tg.botInfo, client: { apiRoot: h.tg.apiRoot } }).api.sendMessage(GROUP, "bot notice")).message_id;
    const updates: Update[] = [
      h.tg.updates.groupText({ chatId: -100111, text: "other group", replyTo: posted }),
      h.tg.updates.groupText({ chatId: GROUP, text: "reply to unmapped", replyTo: unmapped }),
      h.tg.updates.groupText({ chatId: GROUP, text: "reply to an agent", replyTo: agentsOwn.message?.message_id }),
      agentsOwn,
      h.tg.updates.groupText({ chatId: GROUP, text: "edited", replyTo: posted, edited: true }),
      h.tg.updates.privateText("hello bot"),
    ];
    for (const update of updates) expect((await post(update)).status).toBe(200);
    expect(h.replies).toEqual([]);
  });

  it("keeps a photo reply's largest size in uploads, upright and without its location, with the caption as text", async () => {
    const posted = await postedFor("user-5");
    const update = h.tg.updates.groupPhoto({ chatId: GROUP, bytes: JPEG, caption: "see attached", replyTo: posted });
    expect((await post(update)).status).toBe(200);
    const [reply] = h.replies;
    expect(reply).toMatchObject({ userId: "user-5", text: "see attached" });
    expect(reply?.photoUrls).toHaveLength(1);
    const stored = readFileSync(path.join(h.dir, "uploads", (reply?.photoUrls[0] ?? "").replace("/uploads/", "")));
    // The same cleaning as the app's uploads: no location, the orientation applied to the pixels.
    expect(carriesLocation(JPEG).length).toBeGreaterThan(0);
    expect(carriesLocation(stored)).toEqual([]);
    const meta = await sharp(stored).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 40, height: 60 });
    expect(meta.orientation ?? 1).toBe(1);
    const largest = update.message?.photo?.at(-1);
    expect(h.tg.callsTo("getFile").map((c) => c.params.file_id)).toEqual([largest?.file_id]);
    expect(h.tg.downloads).toHaveLength(1);
  });

  it("delivers the text when the photo is over the size cap", async () => {
    await stopServer();
    h.maxPhotoBytes = 1024;
    await serve();
    const posted = await postedFor("user-6");
    expect((await post(h.tg.updates.groupPhoto({ chatId: GROUP, bytes: JPEG, caption: "big one", replyTo: posted }))).status).toBe(200);
    expect(h.replies).toMatchObject([{ text: "big one", photoUrls: [] }]);
  });

  it("delivers the text, and answers 200, when Telegram refuses getFile for a photo over 20 MB", async () => {
    const posted = await postedFor("user-6b");
    // Over the Bot API's 20 MB download limit: Telegram answers getFile with 400 "file is too big".
    const huge = Buffer.concat([JPEG.subarray(0, 12), Buffer.alloc(20 * 1024 * 1024 + 1)]);
    const response = await post(h.tg.updates.groupPhoto({ chatId: GROUP, bytes: huge, caption: "огромный скан", replyTo: posted }));
    expect(response.status).toBe(200);
    expect(h.tg.callsTo("getFile").map((c) => [c.status, c.description])).toEqual([[400, "Bad Request: file is too big"]]);
    expect(h.replies).toMatchObject([{ userId: "user-6b", text: "огромный скан", photoUrls: [] }]);
    expect(h.tg.downloads).toHaveLength(0);
  });

  it("answers 500 when processing fails, so Telegram's redelivery is processed", async () => {
    const posted = await postedFor("user-7");
    const text = h.tg.updates.groupText({ chatId: GROUP, text: "retry me", replyTo: posted });
    h.failNextReply = 1;
    expect((await post(text)).status).toBe(500);
    expect(await processedRows()).toEqual([]);
    expect((await post(text)).status).toBe(200);

    const photo = h.tg.updates.groupPhoto({ chatId: GROUP, bytes: JPEG, replyTo: posted });
    h.tg.failNext(1, { kind: "network" }, ["getFile"]);
    expect((await post(photo)).status).toBe(500);
    expect((await post(photo)).status).toBe(200);
    expect(h.replies.map((r) => [r.text, r.photoUrls.length])).toEqual([["retry me", 0], ["", 1]]);
  });

  it("answers 503 instead of holding Telegram past the budget, and the redelivery joins the work", async () => {
    await stopServer();
    h.ackBudgetMs = 100;
    await serve();
    const posted = await postedFor("user-8");
    const update = h.tg.updates.groupPhoto({ chatId: GROUP, bytes: JPEG, replyTo: posted });
    h.tg.setDelay(400);
    const started = Date.now();
    expect((await post(update)).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(350);
    h.tg.setDelay(0);
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await post(update)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect(h.replies).toHaveLength(1);
  });

  it("answers 503 with a JSON body, processing nothing, while another instance holds a fresh claim", async () => {
    const posted = await postedFor("user-9");
    const update = h.tg.updates.groupText({ chatId: GROUP, text: "being handled elsewhere", replyTo: posted });
    await claimedElsewhere(update.update_id, 60_000);
    const res = await post(update);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toEqual({ success: false, error: expect.stringMatching(/another instance/) });
    expect(h.replies).toEqual([]);
    expect(await claimRow(update.update_id)).toMatchObject({ state: "claimed", claimedBy: "other-instance/0badc0de" });
  });

  it("takes over a claim whose instance stopped renewing it, and processes the update once", async () => {
    const posted = await postedFor("user-10");
    const update = h.tg.updates.groupText({ chatId: GROUP, text: "orphaned", replyTo: posted });
    await claimedElsewhere(update.update_id, -1000);
    expect((await post(update)).status).toBe(200);
    expect((await post(update)).status).toBe(200);
    expect(h.replies.map((r) => r.text)).toEqual(["orphaned"]);
    const row = await claimRow(update.update_id);
    expect(row).toMatchObject({ state: "done", claimExpiresAt: null });
    expect(row?.claimedBy).toMatch(new RegExp(`^${INSTANCE}/[0-9a-f]{8}$`));
  });

  it("gives up the claim when processing fails, so the redelivery is processed, once", async () => {
    const posted = await postedFor("user-11");
    const update = h.tg.updates.groupText({ chatId: GROUP, text: "second time lucky", replyTo: posted });
    h.failNextReply = 1;
    expect((await post(update)).status).toBe(500);
    expect(await claimRow(update.update_id)).toBeNull();
    const again = await Promise.all([post(update), post(update)]);
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    expect((await post(update)).status).toBe(200);
    expect(h.replies.map((r) => r.text)).toEqual(["second time lucky"]);
    expect(await claimRow(update.update_id)).toMatchObject({ state: "done" });
  });

  it("counts rows written before claims existed as done: the migration keeps them, and their updates are not run again", async () => {
    await stopServer();
    await h.db.close();
    // A database as the previous release left it: every migration of the engine's before the claims one.
    const url = await databaseUrlFor(path.join(h.dir, "upgraded"));
    const migrationsDir = migrationsDirFor(url, PROJECT_ROOT);
    const older = path.join(h.dir, "older-migrations");
    cpSync(migrationsDir, older, { recursive: true, filter: (src) => !src.includes("processed_update_claims") });
    const before = await openDatabase({ url, migrationsDir: older });
    const columns =
      testEngine === "postgres"
        ? await before.sql.all<{ name: string }>("SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'processed_updates' ORDER BY ordinal_position")
        : await before.sql.all<{ name: string }>("SELECT name FROM pragma_table_info('processed_updates')");
    expect(columns.map((c) => c.name)).toEqual(["update_id", "created_at"]);
    const posted = await postedFor("user-12");
    const update = h.tg.updates.groupText({ chatId: GROUP, text: "answered by the old release", replyTo: posted });
    await before.sql.run("INSERT INTO processed_updates (update_id) VALUES (?)", [update.update_id]);
    await before.close();

    h.db = await openDatabase({ url, migrationsDir });
    expect(h.db.appliedMigrations).toEqual([expect.stringMatching(/_processed_update_claims$/)]);
    expect(await claimRow(update.update_id)).toMatchObject({ state: "done", claimedBy: null, claimExpiresAt: null });
    await serve();
    const res = await post(update);
    expect([res.status, await res.json()]).toEqual([200, { ok: true }]);
    expect(h.replies).toEqual([]);
  });

  it("GET /api/telegram/health answers ok", async () => {
    const res = await fetch(`${h.url}/api/telegram/health`);
    expect([res.status, await res.json()]).toEqual([200, { status: "ok" }]);
  });
});
