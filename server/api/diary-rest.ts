// The Speaking Diary's REST notes (seed 2), kept for clients written against
// the original Flask service: a session token (X-Session-Token or
// ?session=) and plain JSON. Same services and rules as the tRPC API.
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import type { Db } from "../db/database.js";
import { createNote, listNotes, noteTextSchema } from "../diary/notes.js";
import { resolveSession, type ResolvedSession } from "../diary/sessions.js";
import type { NoteView } from "../diary/types.js";
import { badRequest, unauthorized } from "../errors.js";
import { readJson } from "../http/body.js";
import type { RequestLimiter } from "../http/rate-limit.js";
import { sendFailure, sendJson } from "../http/respond.js";
import type { RouteContext, Router } from "../http/router.js";
import type { Logger } from "../logger.js";

export interface DiaryRestDeps {
  db: Db;
  logger: Logger;
  now?: () => Date;
  /**
   * Also answer GET /api/telegram/health (default true). Turn off when the
   * webhook module registers its own: the Router takes the first match.
   */
  health?: boolean;
  /** the "diary" limits (shared with tRPC) per client address and per user; none: unlimited */
  limiter?: RequestLimiter;
}

/** One note of at most 4000 characters, JSON-escaped at worst 6 bytes each. */
const MAX_BODY_BYTES = 32 * 1024;

/** The seed's note shape: `timestamp` is when it was written (ISO 8601, UTC). */
export interface RestNote {
  id: number;
  text: string;
  timestamp: string;
}

export function toRestNote(note: NoteView): RestNote {
  return { id: note.id, text: note.text, timestamp: note.created_at };
}

const createBody = z.object({ text: noteTextSchema }, { error: "send a JSON object such as {\"text\": \"hello\"}" });

function sessionTokenOf(req: IncomingMessage, url: URL): string | undefined {
  const fromHeader = req.headers["x-session-token"];
  const value = (Array.isArray(fromHeader) ? fromHeader[0] : fromHeader) ?? url.searchParams.get("session") ?? undefined;
  const token = value?.trim();
  return token ? token : undefined;
}

/** The caller's session, within the address's limit (before the body is read) and then the user's. */
async function requireSession(deps: DiaryRestDeps, { req, url }: RouteContext): Promise<ResolvedSession> {
  await deps.limiter?.admitIp("diary", req);
  const token = sessionTokenOf(req, url);
  if (!token) throw unauthorized("session token required: send X-Session-Token or ?session=");
  const session = await resolveSession({ db: deps.db, token, now: deps.now?.() });
  if (!session) throw unauthorized("unknown session token; send /start to the bot again");
  await deps.limiter?.admitUser("diary", String(session.user.id));
  return session;
}

export function registerDiaryRestRoutes(router: Router, deps: DiaryRestDeps): void {
  if (deps.health !== false) router.on("GET", "/api/telegram/health", ({ res }) => sendJson(res, 200, { status: "ok" }));

  router.on("GET", "/api/telegram/notes", async (ctx) => {
    try {
      const session = await requireSession(deps, ctx);
      // Oldest first, as the seed's append-only list returned them.
      const notes = await listNotes({ db: deps.db, userId: session.user.id, order: "oldest" });
      sendJson(ctx.res, 200, { user_id: session.user.id, notes: notes.map(toRestNote) });
    } catch (error) {
      sendFailure(ctx.res, ctx.req, error, deps.logger);
    }
  });

  router.on("POST", "/api/telegram/notes", async (ctx) => {
    try {
      const session = await requireSession(deps, ctx);
      const parsed = createBody.safeParse(await readJson(ctx.req, MAX_BODY_BYTES));
      if (!parsed.success) throw badRequest(parsed.error.issues[0]?.message ?? "the body is not valid");
      const note = await createNote({ db: deps.db, userId: session.user.id, text: parsed.data.text, now: deps.now?.() });
      // 200, not 201: the seed's Flask handler answered with jsonify's default.
      sendJson(ctx.res, 200, { note: toRestNote(note) });
    } catch (error) {
      sendFailure(ctx.res, ctx.req, error, deps.logger);
    }
  });
}
