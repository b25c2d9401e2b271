// The Mini App API: in-process through createCaller, and typed calls over
// real HTTP (@trpc/client + httpBatchLink) through the custom server's Router.
import type { Server } from "node:http";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerTrpcRoutes } from "../../server/api/http.js";
import { createCaller, type AppRouter } from "../../server/api/root.js";
import { createContextInner, type DiaryApiDeps } from "../../server/api/trpc.js";
import type { Db } from "../../server/db/database.js";
import type { DiaryCredentials } from "../../server/diary/auth.js";
import type { TelegramUserInput } from "../../server/diary/types.js";
import { Router } from "../../server/http/router.js";
import { BOT_TOKEN, initDataFor, makeUser, openTestDb, serveRouter, type DiaryTestDb } from "./diary-setup.js";

let t: DiaryTestDb;
let deps: DiaryApiDeps;

beforeAll(async () => {
  t = await openTestDb();
  deps = { db: t.db, config: { botToken: BOT_TOKEN, initDataMaxAgeSeconds: 86_400 }, logger: t.logger };
});
afterAll(async () => {
  await t.cleanup();
});

async function trpcCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    if (error instanceof TRPCClientError) return String((error.data as { code?: string } | undefined)?.code);
    throw error;
  }
  throw new Error("expected a tRPC error");
}

describe("createCaller", () => {
  const caller = (credentials: DiaryCredentials) => createCaller(createContextInner({ ...deps, credentials }));
  const asUser = (user: TelegramUserInput) => caller({ initData: initDataFor(user) });

  it("starts a session from initData and then works with the token alone", async () => {
    const user = makeUser({ last_name: "Doe" });
    const started = await caller({ initData: initDataFor(user) }).session.start();
    expect(started.user).toEqual({ id: user.id, first_name: user.first_name, last_name: "Doe", username: user.username, language_code: "en" });
    expect(Object.keys(started).sort()).toEqual(["token", "user"]);
    const api = caller({ sessionToken: started.token });
    expect(await api.session.me()).toEqual({ user: started.user });
    const note = await api.notes.create({ text: "hello" });
    expect(await api.notes.list()).toEqual([note]);
  });

  it("takes initData from the input as well", async () => {
    const user = makeUser();
    const started = await caller({}).session.start({ initData: initDataFor(user) });
    expect(started.user.id).toBe(user.id);
  });

  it("runs the whole note lifecycle, newest first", async () => {
    const api = asUser(makeUser());
    const first = await api.notes.create({ text: "one" });
    const second = await api.notes.create({ text: "two" });
    expect((await api.notes.list()).map((n) => n.id)).toEqual([second.id, first.id]);
    const edited = await api.notes.update({ id: first.id, text: "one, edited" });
    expect(edited.text).toBe("one, edited");
    expect(Date.parse(edited.updated_at)).toBeGreaterThanOrEqual(Date.parse(first.updated_at));
    expect(await api.notes.delete({ id: first.id })).toEqual({ id: first.id, deleted: true });
    expect((await api.notes.list()).map((n) => n.text)).toEqual(["two"]);
  });

  it("answers NOT_FOUND for another user's note, and leaves it alone", async () => {
    const alice = asUser(makeUser());
    const bob = asUser(makeUser());
    const note = await alice.notes.create({ text: "private" });
    expect(await bob.notes.list()).toEqual([]);
    expect(await trpcCode(bob.notes.update({ id: note.id, text: "mine now" }))).toBe("NOT_FOUND");
    expect(await trpcCode(bob.notes.delete({ id: note.id }))).toBe("NOT_FOUND");
    expect((await alice.notes.list())[0]?.text).toBe("private");
  });

  it("refuses bad credentials with UNAUTHORIZED", async () => {
    const a = makeUser();
    const b = makeUser();
    const { token } = await caller({ initData: initDataFor(a) }).session.start();
    const old = Math.floor(Date.now() / 1000) - 86_401;
    const forged = initDataFor(a).replace(/hash=[0-9a-f]{10}/, "hash=0000000000");
    expect(await trpcCode(caller({}).notes.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ initData: "" }).notes.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ initData: "user=%7B&hash=zz" }).notes.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ initData: initDataFor(a, { authDate: old }) }).notes.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ initData: forged }).notes.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ initData: initDataFor(a, { botToken: "1:OTHER" }) }).notes.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ sessionToken: token, initData: initDataFor(b) }).notes.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ sessionToken: token, initData: initDataFor(b) }).session.start())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ sessionToken: "x".repeat(43) }).session.me())).toBe("UNAUTHORIZED");
    expect(await trpcCode(caller({ sessionToken: token }).session.start())).toBe("UNAUTHORIZED");
  });

  it("authenticates before it validates input", async () => {
    expect(await trpcCode(caller({}).notes.create({ text: "" }))).toBe("UNAUTHORIZED");
  });

  it("answers BAD_REQUEST for bad note input", async () => {
    const api = asUser(makeUser());
    expect(await trpcCode(api.notes.create({ text: "" }))).toBe("BAD_REQUEST");
    expect(await trpcCode(api.notes.create({ text: "   " }))).toBe("BAD_REQUEST");
    expect(await trpcCode(api.notes.create({ text: "x".repeat(4001) }))).toBe("BAD_REQUEST");
    expect(await trpcCode(api.notes.create({ text: 42 } as unknown as { text: string }))).toBe("BAD_REQUEST");
    expect(await trpcCode(api.notes.update({ id: -1, text: "x" }))).toBe("BAD_REQUEST");
    expect(await trpcCode(api.notes.delete({ id: "1" } as unknown as { id: number }))).toBe("BAD_REQUEST");
    expect((await api.notes.create({ text: "x".repeat(4000) })).text).toHaveLength(4000);
  });
});

describe("over HTTP", () => {
  let server: Server;
  let base: string;

  async function serve(apiDeps: DiaryApiDeps): Promise<{ server: Server; base: string }> {
    const router = new Router();
    registerTrpcRoutes(router, apiDeps);
    return serveRouter(router, apiDeps.logger);
  }

  beforeAll(async () => {
    ({ server, base } = await serve(deps));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function client(headers: Record<string, string>) {
    return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${base}/api/trpc`, headers })] });
  }

  it("makes typed calls: start with initData, then notes with the token, batched", async () => {
    const user = makeUser();
    const { token, user: me } = await client({ Authorization: `tma ${initDataFor(user)}` }).session.start.mutate();
    expect(me.id).toBe(user.id);
    const api = client({ "X-Session-Token": token });
    const created = await api.notes.create.mutate({ text: "Привет, дневник! 👋" });
    expect(created.text).toBe("Привет, дневник! 👋");
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // These two go out as one batched request.
    const [list, session] = await Promise.all([api.notes.list.query(), api.session.me.query()]);
    expect(list).toEqual([created]);
    expect(session.user).toEqual(me);
    const updated = await api.notes.update.mutate({ id: created.id, text: "edited" });
    expect(updated.text).toBe("edited");
    expect(await api.notes.delete.mutate({ id: created.id })).toEqual({ id: created.id, deleted: true });
  });

  it("gives typed clients the tRPC code and a readable message", async () => {
    const api = client({ Authorization: `tma ${initDataFor(makeUser())}` });
    const error = await api.notes.create.mutate({ text: "x".repeat(4001) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    const clientError = error as TRPCClientError<AppRouter>;
    expect(clientError.data?.code).toBe("BAD_REQUEST");
    expect(clientError.data?.httpStatus).toBe(400);
    expect(clientError.message).toBe("text must be at most 4000 characters");
    const unauthorized = (await client({}).notes.list.query().then(() => null, (e: unknown) => e)) as TRPCClientError<AppRouter>;
    expect(unauthorized.data?.code).toBe("UNAUTHORIZED");
    expect(unauthorized.data?.httpStatus).toBe(401);
  });

  it("refuses a token of user A with initData of user B (401)", async () => {
    const a = makeUser();
    const b = makeUser();
    const { token } = await client({ Authorization: `tma ${initDataFor(a)}` }).session.start.mutate();
    const res = await fetch(`${base}/api/trpc/notes.list`, { headers: { "X-Session-Token": token, Authorization: `tma ${initDataFor(b)}` } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { message: string; data: Record<string, unknown> } };
    expect(body.error.data.code).toBe("UNAUTHORIZED");
    expect(body.error.message).toMatch(/different Telegram users/);
  });

  it("answers plain JSON any HTTP client can read, without stacks", async () => {
    const res = await fetch(`${base}/api/trpc/notes.create`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `tma ${initDataFor(makeUser())}` },
      body: JSON.stringify({ text: 7 }),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/stack|at .*\.ts|ZodError|node_modules/);
    const body = JSON.parse(text) as { error: { message: string; code: number; data: { code: string; httpStatus: number; path: string } } };
    expect(body.error.data).toEqual({ code: "BAD_REQUEST", httpStatus: 400, path: "notes.create" });
    expect(body.error.message).toBe("text must be a string");

    const ok = await fetch(`${base}/api/trpc/notes.create`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `tma ${initDataFor(makeUser())}` },
      body: JSON.stringify({ text: "plain json" }),
    });
    expect(ok.status).toBe(200);
    const created = (await ok.json()) as { result: { data: { text: string } } };
    expect(created.result.data.text).toBe("plain json");
  });

  it("answers NOT_FOUND for an unknown procedure and for another user's note", async () => {
    const res = await fetch(`${base}/api/trpc/notes.nope`, { headers: { Authorization: `tma ${initDataFor(makeUser())}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe("NOT_FOUND");

    const alice = client({ Authorization: `tma ${initDataFor(makeUser())}` });
    const bob = client({ Authorization: `tma ${initDataFor(makeUser())}` });
    const note = await alice.notes.create.mutate({ text: "alice" });
    expect(await trpcCode(bob.notes.update.mutate({ id: note.id, text: "bob" }))).toBe("NOT_FOUND");
    expect(await trpcCode(bob.notes.delete.mutate({ id: note.id }))).toBe("NOT_FOUND");
  });

  it("answers garbled requests with 4xx, never 5xx", async () => {
    const auth = { Authorization: `tma ${initDataFor(makeUser())}` };
    const badJson = await fetch(`${base}/api/trpc/notes.create`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: "{nope" });
    expect(badJson.status).toBeGreaterThanOrEqual(400);
    expect(badJson.status).toBeLessThan(500);
    const wrongMethod = await fetch(`${base}/api/trpc/notes.create`, { headers: auth });
    expect(wrongMethod.status).toBe(405);
    const badInput = await fetch(`${base}/api/trpc/notes.list?input=%7Bbroken`, { headers: auth });
    expect(badInput.status).toBeLessThan(500);
    const tooBig = await fetch(`${base}/api/trpc/notes.create`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ text: "x".repeat(300_000) }) });
    expect(tooBig.status).toBe(413);
  });

  it("hides internal failures behind a generic message", async () => {
    const broken = {
      ...t.db,
      prisma: new Proxy(t.db.prisma, {
        get(target, key, receiver) {
          if (key === "note") return { findMany: () => Promise.reject(new Error("SQLITE_CORRUPT at /secret/path.db")) };
          return Reflect.get(target, key, receiver) as unknown;
        },
      }),
    } as Db;
    const lines: string[] = [];
    const { createLogger } = await import("../../server/logger.js");
    const logger = createLogger({ level: "error", secrets: [], destination: { write: (line: string) => void lines.push(line) } });
    const other = await serve({ ...deps, db: broken, logger });
    try {
      const res = await fetch(`${other.base}/api/trpc/notes.list`, { headers: { Authorization: `tma ${initDataFor(makeUser())}` } });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain("SQLITE_CORRUPT");
      expect(text).not.toContain("/secret/path");
      expect((JSON.parse(text) as { error: { message: string } }).error.message).toBe("Internal server error");
      expect(lines.join("\n")).toContain("SQLITE_CORRUPT");
    } finally {
      await new Promise<void>((resolve) => other.server.close(() => resolve()));
    }
  });
});
