// Diary sessions: bearer tokens handed out by /start (in the Mini App URL)
// and by session.start. Only the SHA-256 of a token is stored, so a copy of
// the database does not let anyone in.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../db/database.js";
import type { DiaryUserView, TelegramUserInput } from "./types.js";
import { diaryUserSelect, toDiaryUserView, upsertDiaryUser } from "./users.js";

/** last_seen is refreshed at most this often per session, not on every request. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;
/**
 * Every /start issues a token and old buttons stay in the chat, so a user can
 * hold several live tokens; beyond this many the oldest are dropped.
 */
export const MAX_SESSIONS_PER_USER = 20;
/**
 * A token unused this long is refused and deleted: /start buttons stay in
 * the chat for ever, a bearer token in them should not. The Mini App itself
 * signs in with initData, so an active user never notices.
 */
export const SESSION_IDLE_MS = 30 * 24 * 3600 * 1000;

// 32 random bytes = 256 bits, base64url: 43 characters, safe in a URL query.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{20,128}$/;

export function newSessionToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashSessionToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export interface StartedSession {
  token: string;
  user: DiaryUserView;
}

export interface StartSessionOptions {
  db: Db;
  user: TelegramUserInput;
  now?: Date;
}

/** Creates (or refreshes) the user and issues a fresh session token for them. */
export async function startSession({ db, user, now = new Date() }: StartSessionOptions): Promise<StartedSession> {
  const view = await upsertDiaryUser(db, user);
  const token = newSessionToken();
  const userId = BigInt(view.id);
  await db.prisma.diarySession.create({
    data: { tokenHash: hashSessionToken(token), userId, createdAt: now, lastSeen: now },
    select: { id: true },
  });
  const stale = await db.prisma.diarySession.findMany({
    where: { userId },
    orderBy: { id: "desc" },
    skip: MAX_SESSIONS_PER_USER,
    select: { id: true },
  });
  if (stale.length > 0) {
    await db.prisma.diarySession.deleteMany({ where: { id: { in: stale.map((s) => s.id) } } });
  }
  return { token, user: view };
}

export interface ResolvedSession {
  sessionId: number;
  user: DiaryUserView;
}

export interface ResolveSessionOptions {
  db: Db;
  token: string;
  now?: Date;
}

/** The session a token belongs to, or null when the token is unknown. */
export async function resolveSession({ db, token, now = new Date() }: ResolveSessionOptions): Promise<ResolvedSession | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const session = await db.prisma.diarySession.findUnique({
    where: { tokenHash: hashSessionToken(token) },
    select: { id: true, lastSeen: true, user: { select: diaryUserSelect } },
  });
  if (!session) return null;
  if (session.lastSeen.getTime() < now.getTime() - SESSION_IDLE_MS) {
    await db.prisma.diarySession.deleteMany({ where: { id: session.id } });
    return null;
  }
  const threshold = new Date(now.getTime() - SESSION_TOUCH_INTERVAL_MS);
  if (session.lastSeen < threshold) {
    // Conditional, so concurrent requests of one session write once at most.
    await db.prisma.diarySession.updateMany({
      where: { id: session.id, lastSeen: { lt: threshold } },
      data: { lastSeen: now },
    });
  }
  return { sessionId: session.id, user: toDiaryUserView(session.user) };
}
