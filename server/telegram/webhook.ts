// POST /api/telegram/webhook (SPEC §4): authenticates Telegram by the secret
// it was given in setWebhook, dedupes by update_id across restarts and
// across instances (SPEC §8), and hands the update to grammY.
//
// When is an update "processed"? Its processed_updates row is the claim
// (update-claims.ts): taken before bot.handleUpdate, marked done after it
// succeeded, so:
//  - a failure (store down, Telegram unreachable while fetching a photo) is
//    answered 500 and the claim is given up: Telegram redelivers and we try
//    again;
//  - a redelivery of a finished update finds the row done: answered 200,
//    skipped (rows written before claims existed count as done);
//  - a copy landing on another instance while this one works finds the
//    claim held: answered 503, and Telegram delivers it again later, when
//    it is done (200) or was given up (processed then);
//  - an instance that dies mid-update leaves a claim that expires (its
//    holder renews it while working), and the next delivery takes it over;
//  - two copies arriving at one instance together share one in-process
//    promise (registered synchronously, before any await), so the second
//    waits for the first's outcome instead of answering 503.
// What remains: a crash after the reply was stored but before the claim was
// marked done makes the delivery that takes the claim over store it a
// second time. The two writes are milliseconds apart, and the reply is
// stored by the support service, outside this module's transaction.
//
// Answering quickly: text replies finish in milliseconds, a photo needs a
// getFile and a download. We wait for the outcome at most `ackBudgetMs`
// (5 s, well inside the timeouts Telegram and grammY use); past that we
// answer 503 and keep working. Telegram redelivers later; by then the work
// is done (row → 200), still running (join it, or 503 from another
// instance), or failed (run it again). Nothing is acknowledged before it is
// safe, and no request is held open long enough for Telegram to time out
// and back off the whole webhook.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Bot } from "grammy";
import type { Update } from "grammy/types";
import { z } from "zod";
import { isAppError } from "../errors.js";
import { readJson } from "../http/body.js";
import { sendError, sendJson } from "../http/respond.js";
import type { SqlRunner } from "../db/sql.js";
import type { Logger } from "../logger.js";
import { UpdateClaims } from "./update-claims.js";

export interface WebhookHandlerOptions {
  bot: Bot;
  /** TELEGRAM_WEBHOOK_SECRET; without it every request is accepted */
  secret?: string;
  /** the stores' connection of either engine (db.sql): processed_updates */
  sql: SqlRunner;
  logger: Logger;
  /** default 1 MB; Telegram's updates are a few KB */
  maxBodyBytes?: number;
  /** how long a request waits for its update's outcome (default 5 s) */
  ackBudgetMs?: number;
  /** dedupe rows older than this are pruned (default 7 days; Telegram stops redelivering long before) */
  keepProcessedMs?: number;
  /** INSTANCE_ID (config.instanceId): names this instance's claims in processed_updates */
  instanceId: string;
  /** a claim whose holder stopped renewing it is taken over after this (default 30 s) */
  claimTtlMs?: number;
}

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const updateShape = z.looseObject({ update_id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

/** "held": another instance is processing it */
type Outcome = "done" | "failed" | "held";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const { bot, sql, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const ackBudgetMs = options.ackBudgetMs ?? 5000;
  const keepMs = options.keepProcessedMs ?? 7 * 24 * 3600 * 1000;
  const secretDigest = options.secret ? digest(options.secret) : null;
  const claims = new UpdateClaims({
    sql,
    instanceId: options.instanceId,
    ttlMs: options.claimTtlMs,
    logger,
  });
  const inFlight = new Map<number, Promise<Outcome>>();
  let init: Promise<void> | null = null;
  let lastPrune = 0;

  function authorized(req: IncomingMessage, url: URL): boolean {
    if (!secretDigest) return true;
    const header = req.headers["x-telegram-bot-api-secret-token"];
    const given = typeof header === "string" ? header : url.searchParams.get("secret");
    // Hashing first gives equal lengths, so timingSafeEqual leaks neither content nor length.
    return given !== null && timingSafeEqual(digest(given), secretDigest);
  }

  function ensureInit(): Promise<void> {
    if (bot.isInited()) return Promise.resolve();
    init ??= bot.init().catch((error: unknown) => {
      init = null; // try getMe again with the next update
      throw error;
    });
    return init;
  }

  function prune(): void {
    if (Date.now() - lastPrune < 3600_000) return;
    lastPrune = Date.now();
    claims
      .prune(new Date(Date.now() - keepMs))
      .then(undefined, (error: unknown) => logger.warn({ err: error }, "could not prune processed_updates"));
  }

  async function run(updateId: number, update: Update): Promise<Outcome> {
    let claimed;
    try {
      claimed = await claims.claim(updateId);
    } catch (error) {
      logger.error({ err: error, updateId }, "could not claim a Telegram update; Telegram will redeliver it");
      return "failed";
    }
    if (claimed.kind === "done") {
      logger.debug({ updateId }, "redelivered update already processed; skipped");
      return "done";
    }
    if (claimed.kind === "held") {
      logger.debug({ updateId, by: claimed.by }, "update being processed by another instance; Telegram will redeliver it");
      return "held";
    }
    const { claim } = claimed;
    try {
      await ensureInit();
      await bot.handleUpdate(update);
    } catch (error) {
      logger.error({ err: error, updateId }, "Telegram update failed; Telegram will redeliver it");
      // Given up, the redelivery is processed; if even that fails, the claim expires.
      await claim.release().catch((releaseError: unknown) => logger.warn({ err: releaseError, updateId }, "could not give up the claim on a failed update; it expires"));
      return "failed";
    }
    try {
      if (!(await claim.done())) logger.warn({ updateId }, "processed an update whose claim another instance had taken over; it may be processed twice");
    } catch (error) {
      // Processed, but not recorded: answering 500 makes Telegram redeliver, and the
      // claim (left in place) answers 503 until it expires and the update runs again.
      logger.error({ err: error, updateId }, "processed a Telegram update but could not mark it done");
      return "failed";
    }
    prune();
    return "done";
  }

  return async function handleWebhook(req, res) {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!authorized(req, url)) {
      req.resume();
      sendError(res, 401, "the webhook secret is missing or wrong");
      return;
    }
    let body: unknown;
    try {
      body = await readJson(req, maxBodyBytes);
    } catch (error) {
      if (isAppError(error)) sendError(res, error.httpStatus, error.message);
      else sendError(res, 400, "the request body could not be read");
      return;
    }
    const parsed = updateShape.safeParse(body);
    if (!parsed.success) {
      sendError(res, 400, "the body is not a Telegram Update (an object with a numeric update_id)");
      return;
    }
    const updateId = parsed.data.update_id;
    let work = inFlight.get(updateId);
    if (!work) {
      work = run(updateId, parsed.data as unknown as Update);
      inFlight.set(updateId, work);
      void work.then(() => inFlight.delete(updateId));
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([work, new Promise<"pending">((resolve) => (timer = setTimeout(resolve, ackBudgetMs, "pending")))]);
    clearTimeout(timer);
    if (outcome === "done") sendJson(res, 200, { ok: true });
    else if (outcome === "failed") sendError(res, 500, "the update could not be processed; Telegram will deliver it again");
    else if (outcome === "held") sendError(res, 503, "another instance is processing this update; Telegram will deliver it again", { "Retry-After": "5" });
    else sendError(res, 503, "the update is still being processed; Telegram will deliver it again", { "Retry-After": "5" });
  };
}

/** GET /api/telegram/health */
export function handleTelegramHealth(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: "ok" });
}
