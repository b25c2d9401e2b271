// Seed 2's REST notes and health over real HTTP.
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerDiaryRestRoutes } from "../../server/api/diary-rest.js";
import { startSession } from "../../server/diary/sessions.js";
import { Router } from "../../server/http/router.js";
import { makeUser, openTestDb, serveRouter, type DiaryTestDb } from "./diary-setup.js";

let t: DiaryTestDb;
let server: Server;
let base: string;

beforeAll(async () => {
  t = await openTestDb();
  const router = new Router();
  registerDiaryRestRoutes(router, { db: t.db, logger: t.logger });
  ({ server, base } = await serveRouter(router, t.logger));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.cleanup();
});

async function newToken(): Promise<{ token: string; userId: number }> {
  const user = makeUser();
  const { token } = await startSession({ db: t.db, user });
  return { token, userId: user.id };
}

function post(token: string | undefined, body: string, query = ""): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers["X-Session-Token"] = token;
  return fetch(`${base}/api/telegram/notes${query}`, { method: "POST", headers, body });
}

describe("REST notes", () => {
  it("health answers ok", async () => {
    const res = await fetch(`${base}/api/telegram/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("creates a note and lists it with the Telegram user id", async () => {
    const { token, userId } = await newToken();
    const res = await post(token, JSON.stringify({ text: "hello" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const { note } = (await res.json()) as { note: { id: number; text: string; timestamp: string } };
    expect(Object.keys(note).sort()).toEqual(["id", "text", "timestamp"]);
    expect(note.text).toBe("hello");
    expect(Number.isNaN(Date.parse(note.timestamp))).toBe(false);

    await post(token, JSON.stringify({ text: "second" }));
    const list = await fetch(`${base}/api/telegram/notes`, { headers: { "X-Session-Token": token } });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { user_id: number; notes: { text: string }[] };
    expect(body.user_id).toBe(userId);
    expect(body.notes.map((n) => n.text)).toEqual(["hello", "second"]);
  });

  it("accepts the token as ?session=", async () => {
    const { token, userId } = await newToken();
    const created = await post(undefined, JSON.stringify({ text: "via query" }), `?session=${encodeURIComponent(token)}`);
    expect(created.status).toBe(200);
    const list = await fetch(`${base}/api/telegram/notes?session=${encodeURIComponent(token)}`);
    expect(((await list.json()) as { user_id: number }).user_id).toBe(userId);
  });

  it("keeps sessions apart", async () => {
    const a = await newToken();
    const b = await newToken();
    await post(a.token, JSON.stringify({ text: "a's note" }));
    const list = await fetch(`${base}/api/telegram/notes`, { headers: { "X-Session-Token": b.token } });
    expect(((await list.json()) as { notes: unknown[] }).notes).toEqual([]);
  });

  it("answers 401 JSON for a missing or unknown token", async () => {
    for (const res of [
      await fetch(`${base}/api/telegram/notes`),
      await fetch(`${base}/api/telegram/notes`, { headers: { "X-Session-Token": "nope" } }),
      await fetch(`${base}/api/telegram/notes?session=${"Z".repeat(43)}`),
      await post(undefined, JSON.stringify({ text: "x" })),
      await post("Q".repeat(43), JSON.stringify({ text: "x" })),
    ]) {
      expect(res.status).toBe(401);
      const body = (await res.json()) as { success: boolean; error: string };
      expect(body.success).toBe(false);
      expect(body.error).toMatch(/session/);
    }
  });

  it("answers 400 JSON for bad JSON or bad text", async () => {
    const { token } = await newToken();
    const cases: [string, RegExp][] = [
      ["{oops", /not valid JSON/],
      ["", /empty/],
      ["[1,2]", /JSON object/],
      [JSON.stringify({}), /text must be a string/],
      [JSON.stringify({ text: 12 }), /text must be a string/],
      [JSON.stringify({ text: "   " }), /must not be empty/],
      [JSON.stringify({ text: "x".repeat(4001) }), /at most 4000/],
    ];
    for (const [body, message] of cases) {
      const res = await post(token, body);
      expect(res.status, body.slice(0, 20)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
  });

  it("answers 413 for an oversized body", async () => {
    const { token } = await newToken();
    const res = await post(token, JSON.stringify({ text: "x".repeat(100_000) }));
    expect(res.status).toBe(413);
  });
});
