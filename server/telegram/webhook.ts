// POST /api/telegram/webhook (SPEC §4): authenticates Telegram by the secret
// it was given in setWebhook, dedupes by update_id across restarts, and hands
// the update to grammY.
//
// When is an update "processed"? Its processed_updates row is written only
// after bot.handleUpdate succeeded, so:
//  - a failure (store down, Telegram unreachable while fetching a photo) is
//    answered 500 with no row: Telegram redelivers and we try again;
//  - a redelivery of a finished update finds the row: answered 200, skipped;
//  - two copies arriving together share one in-process promise (registered
//    synchronously, before any await), so the second waits for the first's
//    outcome instead of running the update again.
// What remains: a crash after the reply was stored but before the row was
// written makes Telegram's redelivery store it a second time. The service
// is one process and both writes are milliseconds apart; a status column on
// processed_updates (claimed/done) would let the claim and the reply commit
// together.
//
// Answering quickly: text replies finish in milliseconds, a photo needs a
// getFile and a download. We wait for the outcome at most `ackBudgetMs`
// (5 s, well inside the timeouts Telegram and grammY use); past that we
// answer 503 and keep working. Telegram redelivers later; by then the work
// is done (row → 200), still running (join it), or failed (run it again).
// Nothing is acknowledged before it is safe, and no request is held open
// long enough for Telegram to time out and back off the whole webhook.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Bot } from "grammy";
import type { Update } from "grammy/types";
import { z } from "zod";
import type { PrismaClient } from "../db/database.js";
import { isAppError } from "../errors.js";
import { readJson } from "../http/body.js";
import { sendError, sendJson } from "../http/respond.js";
import type { Logger } from "../logger.js";

export interface WebhookHandlerOptions {
  bot: Bot;
  /** TELEGRAM_WEBHOOK_SECRET; without it every request is accepted */
  secret?: string;
  prisma: PrismaClient;
  logger: Logger;
  /** default 1 MB; Telegram's updates are a few KB */
  maxBodyBytes?: number;
  /** how long a request waits for its update's outcome (default 5 s) */
  ackBudgetMs?: number;
  /** dedupe rows older than this are pruned (default 7 days; Telegram stops redelivering long before) */
  keepProcessedMs?: number;
}

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const updateShape = z.looseObject({ update_id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

type Outcome = "done" | "failed";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const { bot, prisma, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const ackBudgetMs = options.ackBudgetMs ?? 5000;
  const keepMs = options.keepProcessedMs ?? 7 * 24 * 3600 * 1000;
  const secretDigest = options.secret ? digest(options.secret) : null;
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
    prisma.processedUpdate
      .deleteMany({ where: { createdAt: { lt: new Date(Date.now() - keepMs) } } })
      .catch((error: unknown) => logger.warn({ err: error }, "could not prune processed_updates"));
  }

  async function run(updateId: number, update: Update): Promise<Outcome> {
    try {
      if (await prisma.processedUpdate.findUnique({ where: { updateId: BigInt(updateId) }, select: { updateId: true } })) {
        logger.debug({ updateId }, "redelivered update already processed; skipped");
        return "done";
      }
      await ensureInit();
      await bot.handleUpdate(update);
      await prisma.processedUpdate.create({ data: { updateId: BigInt(updateId) } }).catch((error: unknown) => {
        if ((error as { code?: string }).code !== "P2002") throw error;
      });
      prune();
      return "done";
    } catch (error) {
      logger.error({ err: error, updateId }, "Telegram update failed; Telegram will redeliver it");
      return "failed";
    }
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
    else sendError(res, 503, "the update is still being processed; Telegram will deliver it again", { "Retry-After": "5" });
  };
}

/** GET /api/telegram/health */
export function handleTelegramHealth(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: "ok" });
}
