// Sessions, users and notes services against a real SQLite database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate, startSessionFromInitData, type DiaryAuthDeps } from "../../server/diary/auth.js";
import { createNote, deleteNote, listNotes, updateNote } from "../../server/diary/notes.js";
import { hashSessionToken, MAX_SESSIONS_PER_USER, resolveSession, SESSION_IDLE_MS, startSession } from "../../server/diary/sessions.js";
import { upsertDiaryUser } from "../../server/diary/users.js";
import { isAppError, type AppErrorCode } from "../../server/errors.js";
import { BOT_TOKEN, initDataFor, makeUser, openTestDb, type DiaryTestDb } from "./diary-setup.js";

let t: DiaryTestDb;
beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => {
  await t.cleanup();
});

async function codeOf(promise: Promise<unknown>): Promise<AppErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (isAppError(error)) return error.code;
    throw error;
  }
  throw new Error("expected an AppError");
}

describe("sessions", () => {
  it("issues a 256-bit base64url token and stores only its SHA-256", async () => {
    const user = makeUser();
    const { token, user: view } = await startSession({ db: t.db, user });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(view).toEqual({ id: user.id, first_name: user.first_name, username: user.username, language_code: "en" });
    const rows = await t.db.sql.all<{ token_hash: string }>("SELECT token_hash, created_at, last_seen FROM diary_sessions WHERE user_id = ?", [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toBe(hashSessionToken(token));
    const dump = JSON.stringify(await t.db.sql.all("SELECT * FROM diary_sessions"));
    expect(dump).not.toContain(token);
  });

  it("restores the same diary on a second start, with a fresh token", async () => {
    const user = makeUser();
    const first = await startSession({ db: t.db, user });
    await createNote({ db: t.db, userId: user.id, text: "kept" });
    const second = await startSession({ db: t.db, user: { ...user, first_name: "Renamed" } });
    expect(second.token).not.toBe(first.token);
    expect(second.user.first_name).toBe("Renamed");
    const viaOld = await resolveSession({ db: t.db, token: first.token });
    const viaNew = await resolveSession({ db: t.db, token: second.token });
    expect(viaOld?.user.id).toBe(user.id);
    expect(viaNew?.user.first_name).toBe("Renamed");
    expect((await listNotes({ db: t.db, userId: user.id })).map((n) => n.text)).toEqual(["kept"]);
  });

  it("keeps at most MAX_SESSIONS_PER_USER tokens, dropping the oldest", async () => {
    const user = makeUser();
    const tokens: string[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_USER + 2; i++) tokens.push((await startSession({ db: t.db, user })).token);
    expect(await resolveSession({ db: t.db, token: tokens[0] as string })).toBeNull();
    expect(await resolveSession({ db: t.db, token: tokens[1] as string })).toBeNull();
    expect(await resolveSession({ db: t.db, token: tokens[2] as string })).not.toBeNull();
    const count = await t.db.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM diary_sessions WHERE user_id = ?", [user.id]);
    expect(count?.n).toBe(MAX_SESSIONS_PER_USER);
  });

  it("refuses and deletes a token left unused for longer than the idle limit", async () => {
    const user = makeUser();
    const start = new Date("2026-01-01T10:00:00Z");
    const { token } = await startSession({ db: t.db, user, now: start });
    const justInTime = new Date(start.getTime() + SESSION_IDLE_MS - 1000);
    expect(await resolveSession({ db: t.db, token, now: justInTime })).not.toBeNull();
    // Using it refreshed last_seen, so the limit counts from then.
    expect(await resolveSession({ db: t.db, token, now: new Date(justInTime.getTime() + SESSION_IDLE_MS + 1000) })).toBeNull();
    expect(await t.db.prisma.diarySession.count({ where: { tokenHash: hashSessionToken(token) } })).toBe(0);
  });

  it("refreshes last_seen at most once a minute", async () => {
    const user = makeUser();
    const start = new Date("2026-01-01T10:00:00Z");
    const { token } = await startSession({ db: t.db, user, now: start });
    const lastSeen = async () => {
      const row = await t.db.prisma.diarySession.findUnique({ where: { tokenHash: hashSessionToken(token) }, select: { lastSeen: true, createdAt: true } });
      return row;
    };
    await resolveSession({ db: t.db, token, now: new Date(start.getTime() + 30_000) });
    expect((await lastSeen())?.lastSeen.toISOString()).toBe(start.toISOString());
    const later = new Date(start.getTime() + 61_000);
    await resolveSession({ db: t.db, token, now: later });
    const row = await lastSeen();
    expect(row?.lastSeen.toISOString()).toBe(later.toISOString());
    expect(row?.createdAt.toISOString()).toBe(start.toISOString());
  });

  it("answers null for unknown, malformed and empty tokens", async () => {
    expect(await resolveSession({ db: t.db, token: "A".repeat(43) })).toBeNull();
    expect(await resolveSession({ db: t.db, token: "not a token!" })).toBeNull();
    expect(await resolveSession({ db: t.db, token: "" })).toBeNull();
  });
});

describe("users", () => {
  it("creates, then updates only what changed, and maps null fields away", async () => {
    const user = makeUser({ last_name: "Smith" });
    expect(await upsertDiaryUser(t.db, user)).toMatchObject({ id: user.id, last_name: "Smith" });
    const updated = await upsertDiaryUser(t.db, { ...user, last_name: null, username: undefined });
    expect(updated).toEqual({ id: user.id, first_name: user.first_name, language_code: "en" });
  });
});

describe("notes", () => {
  it("creates, lists newest first, updates and deletes", async () => {
    const user = makeUser();
    await upsertDiaryUser(t.db, user);
    const scope = { db: t.db, userId: user.id };
    const a = await createNote({ ...scope, text: "  first  ", now: new Date("2026-01-01T00:00:00Z") });
    const b = await createNote({ ...scope, text: "second", now: new Date("2026-01-02T00:00:00Z") });
    expect(a).toEqual({ id: a.id, text: "first", created_at: "2026-01-01T00:00:00.000Z", updated_at: "2026-01-01T00:00:00.000Z" });
    expect((await listNotes(scope)).map((n) => n.id)).toEqual([b.id, a.id]);
    expect((await listNotes({ ...scope, order: "oldest" })).map((n) => n.id)).toEqual([a.id, b.id]);

    const edited = await updateNote({ ...scope, id: a.id, text: "first, edited", now: new Date("2026-01-03T00:00:00Z") });
    expect(edited).toEqual({ id: a.id, text: "first, edited", created_at: "2026-01-01T00:00:00.000Z", updated_at: "2026-01-03T00:00:00.000Z" });
    expect(await deleteNote({ ...scope, id: a.id })).toEqual({ id: a.id, deleted: true });
    expect((await listNotes(scope)).map((n) => n.id)).toEqual([b.id]);
    expect(await codeOf(deleteNote({ ...scope, id: a.id }))).toBe("NOT_FOUND");
  });

  it("keeps each user's notes to themselves", async () => {
    const alice = makeUser();
    const bob = makeUser();
    await upsertDiaryUser(t.db, alice);
    await upsertDiaryUser(t.db, bob);
    const note = await createNote({ db: t.db, userId: alice.id, text: "alice only" });
    expect(await listNotes({ db: t.db, userId: bob.id })).toEqual([]);
    expect(await codeOf(updateNote({ db: t.db, userId: bob.id, id: note.id, text: "hijack" }))).toBe("NOT_FOUND");
    expect(await codeOf(deleteNote({ db: t.db, userId: bob.id, id: note.id }))).toBe("NOT_FOUND");
    expect((await listNotes({ db: t.db, userId: alice.id }))[0]?.text).toBe("alice only");
  });

  it("enforces 1..4000 characters after trimming", async () => {
    const user = makeUser();
    await upsertDiaryUser(t.db, user);
    const scope = { db: t.db, userId: user.id };
    expect(await codeOf(createNote({ ...scope, text: "" }))).toBe("BAD_REQUEST");
    expect(await codeOf(createNote({ ...scope, text: " \n\t " }))).toBe("BAD_REQUEST");
    expect(await codeOf(createNote({ ...scope, text: "x".repeat(4001) }))).toBe("BAD_REQUEST");
    // A lone surrogate is valid JSON but not text: refused, not an internal error.
    expect(await codeOf(createNote({ ...scope, text: "broken \ud800 text" }))).toBe("BAD_REQUEST");
    expect((await createNote({ ...scope, text: "x".repeat(4000) })).text).toHaveLength(4000);
    expect((await createNote({ ...scope, text: ` ${"y".repeat(4000)} ` })).text).toHaveLength(4000);
  });
});

describe("authenticate", () => {
  const deps = (): DiaryAuthDeps => ({ db: t.db, botToken: BOT_TOKEN, initDataMaxAgeSeconds: 86_400 });

  it("accepts initData alone and creates the user", async () => {
    const user = makeUser();
    const principal = await authenticate(deps(), { initData: initDataFor(user) });
    expect(principal.user.id).toBe(user.id);
    expect(principal.sessionId).toBeUndefined();
  });

  it("accepts a token alone, and both when they agree", async () => {
    const user = makeUser();
    const { token } = await startSession({ db: t.db, user });
    expect((await authenticate(deps(), { sessionToken: token })).user.id).toBe(user.id);
    expect((await authenticate(deps(), { sessionToken: token, initData: initDataFor(user) })).sessionId).toBeTypeOf("number");
  });

  it("creates a new user once under concurrent first requests", async () => {
    const user = makeUser();
    const results = await Promise.all(Array.from({ length: 8 }, () => authenticate(deps(), { initData: initDataFor(user) })));
    expect(new Set(results.map((r) => r.user.id))).toEqual(new Set([user.id]));
    const count = await t.db.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM diary_users WHERE id = ?", [user.id]);
    expect(count?.n).toBe(1);
  });

  it("refuses a token of one user with initData of another", async () => {
    const a = makeUser();
    const b = makeUser();
    const { token } = await startSession({ db: t.db, user: a });
    expect(await codeOf(authenticate(deps(), { sessionToken: token, initData: initDataFor(b) }))).toBe("UNAUTHORIZED");
  });

  it("refuses no credentials, an unknown token, bad initData, and initData when no bot token is set", async () => {
    const user = makeUser();
    expect(await codeOf(authenticate(deps(), {}))).toBe("UNAUTHORIZED");
    expect(await codeOf(authenticate(deps(), { sessionToken: "B".repeat(43) }))).toBe("UNAUTHORIZED");
    expect(await codeOf(authenticate(deps(), { initData: "garbage" }))).toBe("UNAUTHORIZED");
    expect(await codeOf(authenticate({ ...deps(), botToken: undefined }, { initData: initDataFor(user) }))).toBe("UNAUTHORIZED");
    // a valid initData does not excuse a bad token next to it
    expect(await codeOf(authenticate(deps(), { initData: initDataFor(user), sessionToken: "C".repeat(43) }))).toBe("UNAUTHORIZED");
  });

  it("session start restores a presented token of the same user, replaces an unknown one, refuses another user's", async () => {
    const user = makeUser();
    const other = makeUser();
    const first = await startSessionFromInitData(deps(), { initData: initDataFor(user) });
    const again = await startSessionFromInitData(deps(), { initData: initDataFor(user), sessionToken: first.token });
    expect(again.token).toBe(first.token);
    const fresh = await startSessionFromInitData(deps(), { initData: initDataFor(user), sessionToken: "D".repeat(43) });
    expect(fresh.token).not.toBe(first.token);
    expect(await codeOf(startSessionFromInitData(deps(), { initData: initDataFor(other), sessionToken: first.token }))).toBe("UNAUTHORIZED");
    expect(await codeOf(startSessionFromInitData(deps(), { sessionToken: first.token }))).toBe("UNAUTHORIZED");
  });
});
