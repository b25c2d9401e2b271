// The Mini App API through every link @trpc/client offers, configured as a
// user would (SPEC §5): httpLink (one request per call; a mutation without
// input is a POST with no body), httpBatchLink and httpBatchStreamLink.
// Every procedure, and the refusals, must come out the same through each.
import type { Server } from "node:http";
import { createTRPCClient, httpBatchLink, httpBatchStreamLink, httpLink, TRPCClientError, type TRPCLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { registerTrpcRoutes } from "../../server/api/http.js";
import type { AppRouter } from "../../server/api/root.js";
import { Router } from "../../server/http/router.js";
import { BOT_TOKEN, initDataFor, makeUser, openTestDb, serveRouter, type DiaryTestDb } from "./diary-setup.js";

let t: DiaryTestDb;
let server: Server;
let base: string;

beforeAll(async () => {
  t = await openTestDb();
  const router = new Router();
  registerTrpcRoutes(router, { db: t.db, config: { botToken: BOT_TOKEN, initDataMaxAgeSeconds: 86_400 }, logger: t.logger });
  ({ server, base } = await serveRouter(router, t.logger));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.cleanup();
});

type LinkFactory = (opts: { url: string; headers: Record<string, string> }) => TRPCLink<AppRouter>;

const LINKS: [string, LinkFactory][] = [
  ["httpLink", (opts) => httpLink(opts)],
  ["httpBatchLink", (opts) => httpBatchLink(opts)],
  ["httpBatchStreamLink", (opts) => httpBatchStreamLink(opts)],
];

async function refusal(promise: Promise<unknown>): Promise<{ code?: string; httpStatus?: number; message: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  const clientError = error as TRPCClientError<AppRouter>;
  return { code: clientError.data?.code, httpStatus: clientError.data?.httpStatus, message: clientError.message };
}

describe.each(LINKS)("@trpc/client with %s", (_name, link) => {
  const client = (headers: Record<string, string> = {}) => createTRPCClient<AppRouter>({ links: [link({ url: `${base}/api/trpc`, headers })] });

  test("session.start without input (initData in the header), then every procedure with the token", async () => {
    const user = makeUser({ last_name: "Link" });
    const started = await client({ Authorization: `tma ${initDataFor(user)}` }).session.start.mutate();
    expect(started.user).toMatchObject({ id: user.id, first_name: user.first_name, last_name: "Link" });
    expect(started.token).toEqual(expect.any(String));

    const api = client({ "X-Session-Token": started.token });
    expect(await api.session.me.query()).toEqual({ user: started.user });
    expect(await api.notes.list.query()).toEqual([]);
    const first = await api.notes.create.mutate({ text: "первая" });
    const second = await api.notes.create.mutate({ text: "вторая" });
    expect(first).toMatchObject({ id: expect.any(Number), text: "первая" });
    expect((await api.notes.list.query()).map((n) => n.id)).toEqual([second.id, first.id]);
    expect(await api.notes.update.mutate({ id: first.id, text: "первая, правка" })).toMatchObject({ id: first.id, text: "первая, правка" });
    expect(await api.notes.delete.mutate({ id: first.id })).toEqual({ id: first.id, deleted: true });
    expect((await api.notes.list.query()).map((n) => n.text)).toEqual(["вторая"]);
  });

  test("session.start with initData as input, and calls made together", async () => {
    const user = makeUser();
    const { token } = await client().session.start.mutate({ initData: initDataFor(user) });
    const api = client({ "X-Session-Token": token });
    const [me, list, created] = await Promise.all([api.session.me.query(), api.notes.list.query(), api.notes.create.mutate({ text: "вместе" })]);
    expect(me.user.id).toBe(user.id);
    expect(created.text).toBe("вместе");
    // Three requests at once, in no promised order: the list is read before or after the create commits
    // (on PostgreSQL either happens), and shows nothing else.
    expect([[], [created]]).toContainEqual(list);
  });

  test("forged or missing initData is UNAUTHORIZED (401), also for the input-less session.start", async () => {
    const forged = initDataFor(makeUser()).replace(/hash=[0-9a-f]{10}/, "hash=0000000000");
    const refused: Record<string, string>[] = [{ Authorization: `tma ${forged}` }, {}, { Authorization: `tma ${initDataFor(makeUser(), { botToken: "1:OTHER" })}` }];
    for (const headers of refused) {
      expect(await refusal(client(headers).session.start.mutate())).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
      expect(await refusal(client(headers).session.me.query())).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
      expect(await refusal(client(headers).notes.create.mutate({ text: "x" }))).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    }
    expect(await refusal(client().session.start.mutate({ initData: forged }))).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });

  test("bad input is BAD_REQUEST with a readable message, another user's note NOT_FOUND", async () => {
    const api = client({ Authorization: `tma ${initDataFor(makeUser())}` });
    expect(await refusal(api.notes.create.mutate({ text: "" }))).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    const other = await client({ Authorization: `tma ${initDataFor(makeUser())}` }).notes.create.mutate({ text: "чужая" });
    expect(await refusal(api.notes.update.mutate({ id: other.id, text: "моя" }))).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
    expect(await refusal(api.notes.delete.mutate({ id: other.id }))).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
  });
});

describe("a mutation without input on the wire", () => {
  test.each([
    ["with content-type: application/json", { "content-type": "application/json" }],
    ["without a content-type", {}],
  ])("a POST with no body %s starts the session", async (_name, headers) => {
    const user = makeUser();
    const res = await fetch(`${base}/api/trpc/session.start`, { method: "POST", headers: { ...headers, Authorization: `tma ${initDataFor(user)}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { data: { user: { id: number } } } };
    expect(body.result.data.user.id).toBe(user.id);
  });

  test("a POST with no body and forged initData is 401, not a parse error", async () => {
    const forged = initDataFor(makeUser()).replace(/hash=[0-9a-f]{10}/, "hash=0000000000");
    const res = await fetch(`${base}/api/trpc/session.start`, { method: "POST", headers: { "content-type": "application/json", Authorization: `tma ${forged}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe("UNAUTHORIZED");
  });

  test("a batch of input-less mutations with no body is answered for each", async () => {
    const user = makeUser();
    const res = await fetch(`${base}/api/trpc/session.start,session.start?batch=1`, { method: "POST", headers: { Authorization: `tma ${initDataFor(user)}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { data: { user: { id: number } } } }[];
    expect(body.map((item) => item.result.data.user.id)).toEqual([user.id, user.id]);
  });

  test("a body that is not JSON is still refused with 400, a too-large one with 413", async () => {
    const auth = { Authorization: `tma ${initDataFor(makeUser())}` };
    const broken = await fetch(`${base}/api/trpc/notes.create`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{nope" });
    expect(broken.status).toBe(400);
    const tooBig = await fetch(`${base}/api/trpc/notes.create`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ text: "x".repeat(300_000) }) });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { data: { code: string } } }).error.data.code).toBe("PAYLOAD_TOO_LARGE");
  });
});
