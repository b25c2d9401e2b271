// Who is calling the Mini App API. Two credentials exist: Telegram's signed
// initData (`Authorization: tma <initData>`) and a session token
// (`X-Session-Token`). Every credential presented must be valid, and when
// both are presented they must name the same Telegram user (SPEC §5).
import type { Db } from "../db/database.js";
import { unauthorized } from "../errors.js";
import { validateInitData, type ValidatedInitData } from "./init-data.js";
import { resolveSession, startSession, type ResolvedSession, type StartedSession } from "./sessions.js";
import type { DiaryUserView } from "./types.js";
import { upsertDiaryUser } from "./users.js";

export interface DiaryAuthDeps {
  db: Db;
  /** without a bot token initData cannot be checked and is refused */
  botToken: string | undefined;
  initDataMaxAgeSeconds: number;
  now?: () => Date;
}

/** Raw credentials as they arrived; undefined when absent. */
export interface DiaryCredentials {
  initData?: string;
  sessionToken?: string;
}

export interface DiaryPrincipal {
  user: DiaryUserView;
  /** set when a valid session token was presented */
  sessionId?: number;
}

/** Reads `Authorization: tma <initData>`; other schemes are not ours and are ignored. */
export function initDataFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^tma\s+(.*)$/is.exec(header.trim());
  return match ? (match[1] ?? "").trim() : undefined;
}

function checkInitData(deps: DiaryAuthDeps, initData: string): ValidatedInitData {
  if (!deps.botToken) throw unauthorized("initData cannot be checked: the bot is not configured on this server");
  return validateInitData(initData, {
    botToken: deps.botToken,
    maxAgeSeconds: deps.initDataMaxAgeSeconds,
    now: deps.now?.(),
  });
}

async function checkToken(deps: DiaryAuthDeps, token: string): Promise<ResolvedSession | null> {
  return resolveSession({ db: deps.db, token, now: deps.now?.() });
}

const MIXED_USERS = "the session token and initData belong to different Telegram users";

export async function authenticate(deps: DiaryAuthDeps, credentials: DiaryCredentials): Promise<DiaryPrincipal> {
  const { initData, sessionToken } = credentials;
  if (initData === undefined && sessionToken === undefined) {
    throw unauthorized("not signed in: send Authorization: tma <initData> or X-Session-Token");
  }
  const launch = initData === undefined ? undefined : checkInitData(deps, initData);
  let session: ResolvedSession | undefined;
  if (sessionToken !== undefined) {
    session = (await checkToken(deps, sessionToken)) ?? undefined;
    if (!session) throw unauthorized("the session token is unknown; open the Mini App again from the bot");
  }
  if (launch && session && launch.user.id !== session.user.id) throw unauthorized(MIXED_USERS);
  // initData carries the freshest profile, so it refreshes the stored user.
  const user = launch ? await upsertDiaryUser(deps.db, launch.user) : (session as ResolvedSession).user;
  return session ? { user, sessionId: session.sessionId } : { user };
}

/**
 * session.start: initData is required. A session token presented alongside
 * is restored (returned as is) when it is the same user's; an unknown one is
 * simply replaced, since starting over is what this call is for; another
 * user's is refused.
 */
export async function startSessionFromInitData(deps: DiaryAuthDeps, credentials: DiaryCredentials): Promise<StartedSession> {
  if (credentials.initData === undefined) throw unauthorized("session.start needs Telegram initData");
  const launch = checkInitData(deps, credentials.initData);
  if (credentials.sessionToken !== undefined) {
    const session = await checkToken(deps, credentials.sessionToken);
    if (session && session.user.id !== launch.user.id) throw unauthorized(MIXED_USERS);
    if (session) {
      const user = await upsertDiaryUser(deps.db, launch.user);
      return { token: credentials.sessionToken, user };
    }
  }
  return startSession({ db: deps.db, user: launch.user, now: deps.now?.() });
}
