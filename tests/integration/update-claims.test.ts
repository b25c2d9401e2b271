// The webhook's claims on processed_updates (server/telegram/update-claims.ts)
// on both engines: two claimers with connections of their own, as two
// instances have, on one SQLite file and on the real PostgreSQL of
// tests/engines (skipped outside CI when it is not started).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { openDatabase } from "../../server/db/database.js";
import { PrismaClient as PostgresClient } from "../../server/db/generated-postgres/client.js";
import { applyPostgresMigrations } from "../../server/db/migrate-postgres.js";
import { createLogger } from "../../server/logger.js";
import { UpdateClaims, type ClaimResult, type ClaimTable } from "../../server/telegram/update-claims.js";
import { createTestDatabase, engineUrl } from "../engines/engines.js";
import { PROJECT_ROOT, sqliteOf } from "../fixtures/test-app.js";

const logger = createLogger({ level: "silent", secrets: [] });
const postgresUrl = engineUrl("TEST_POSTGRES_URL");

interface Engine {
  /** one connection per instance, all on the same database */
  tables: ClaimTable[];
  /** an INSERT naming only the columns rows had before claims existed */
  insertOldRow(updateId: number): Promise<void>;
  close(): Promise<void>;
}

async function sqliteEngine(): Promise<Engine> {
  const dir = mkdtempSync(path.join(tmpdir(), "claims-"));
  const open = () => openDatabase({ url: `file:${path.join(dir, "claims.db")}`, migrationsDir: path.join(PROJECT_ROOT, "prisma", "migrations") });
  const a = await open();
  const b = await open();
  return {
    tables: [a.prisma.processedUpdate, b.prisma.processedUpdate],
    async insertOldRow(updateId) {
      sqliteOf(a).prepare("INSERT INTO processed_updates (update_id, created_at) VALUES (?, ?)").run(updateId, Date.now());
    },
    async close() {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresEngine(serverUrl: string): Promise<Engine> {
  const db = await createTestDatabase(serverUrl);
  await applyPostgresMigrations(db.url, path.join(PROJECT_ROOT, "prisma", "postgres", "migrations"));
  const clients = [0, 1].map(() => new PostgresClient({ adapter: new PrismaPg({ connectionString: db.url }) }));
  return {
    tables: clients.map((c) => c.processedUpdate),
    async insertOldRow(updateId) {
      await clients[0]?.$executeRawUnsafe(`INSERT INTO processed_updates (update_id, created_at) VALUES (${updateId}, now())`);
    },
    async close() {
      for (const c of clients) await c.$disconnect();
      await db.drop();
    },
  };
}

const engines: [string, () => Promise<Engine>][] = [["SQLite", sqliteEngine]];
if (postgresUrl) engines.push(["PostgreSQL", () => postgresEngine(postgresUrl)]);

const kinds = (results: ClaimResult[]) => results.map((r) => r.kind).sort();

describe.each(engines)("update claims on %s", (_name, start) => {
  let engine: Engine;
  let a: UpdateClaims;
  let b: UpdateClaims;
  let next = 1000;
  const held: ClaimResult[] = [];
  const claimers = (ttlMs?: number) => engine.tables.map((table, i) => new UpdateClaims({ table, instanceId: `instance-${i}`, ttlMs, logger }));

  beforeAll(async () => {
    engine = await start();
  });
  afterAll(async () => {
    await engine.close();
  });
  afterEach(async () => {
    // Stops the renewal timers of claims a test left held.
    for (const r of held.splice(0)) if (r.kind === "mine") await r.claim.release();
  });
  const claim = async (claims: UpdateClaims, id: number) => {
    const result = await claims.claim(id);
    held.push(result);
    return result;
  };
  const row = (id: number) =>
    engine.tables[0]?.findUnique({ where: { updateId: BigInt(id) }, select: { state: true, claimedBy: true, claimExpiresAt: true } });

  test("of claims taken at once from two connections exactly one wins; the others see it held, then done", async () => {
    [a, b] = claimers() as [UpdateClaims, UpdateClaims];
    for (let round = 0; round < 10; round++) {
      const id = next++;
      const results = await Promise.all([claim(a, id), claim(b, id), claim(a, id), claim(b, id)]);
      expect(kinds(results)).toEqual(["held", "held", "held", "mine"]);
      const winner = results.find((r) => r.kind === "mine");
      const loser = results.find((r) => r.kind === "held");
      expect(loser?.kind === "held" && loser.by).toMatch(/^instance-[01]\/[0-9a-f]{8}$/);
      expect(winner?.kind === "mine" && (await winner.claim.done())).toBe(true);
      expect(kinds(await Promise.all([claim(a, id), claim(b, id)]))).toEqual(["done", "done"]);
      expect(await row(id)).toMatchObject({ state: "done", claimExpiresAt: null, claimedBy: loser?.kind === "held" ? loser.by : "" });
    }
  });

  test("a released claim is gone, and the next delivery claims it afresh", async () => {
    [a, b] = claimers() as [UpdateClaims, UpdateClaims];
    const id = next++;
    const first = await claim(a, id);
    expect(first.kind).toBe("mine");
    if (first.kind === "mine") await first.claim.release();
    expect(await row(id)).toBeNull();
    const again = await claim(b, id);
    expect(again.kind).toBe("mine");
    expect((await row(id))?.claimedBy).toBe(b.owner);
  });

  test("an expired claim (its holder died) is taken over by exactly one of the deliveries racing for it", async () => {
    [a, b] = claimers() as [UpdateClaims, UpdateClaims];
    const id = next++;
    await engine.tables[0]?.create({ data: { updateId: BigInt(id), state: "claimed", claimedBy: "dead/00000000", claimExpiresAt: new Date(Date.now() - 1000) } });
    const results = await Promise.all([claim(a, id), claim(b, id), claim(a, id), claim(b, id)]);
    expect(kinds(results)).toEqual(["held", "held", "held", "mine"]);
    const current = await row(id);
    expect([a.owner, b.owner]).toContain(current?.claimedBy);
    expect(current?.claimExpiresAt?.getTime()).toBeGreaterThan(Date.now());
  });

  test("a live holder renews its claim, so a slow update is never taken over", async () => {
    [a, b] = claimers(150) as [UpdateClaims, UpdateClaims];
    const id = next++;
    expect((await claim(a, id)).kind).toBe("mine");
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect((await claim(b, id)).kind).toBe("held"); // 500 ms in all: over three times the claim's 150 ms
    }
    expect((await row(id))?.claimedBy).toBe(a.owner);
  });

  test("a holder whose claim expired and was taken over is told so when it finishes", async () => {
    [a, b] = claimers(60_000) as [UpdateClaims, UpdateClaims]; // no renewal during the test
    const id = next++;
    const mine = await claim(a, id);
    // As if a's renewals had not reached the database for longer than the claim lasts.
    await engine.tables[1]?.update({ where: { updateId: BigInt(id), state: "claimed" }, data: { claimExpiresAt: new Date(Date.now() - 1) }, select: { updateId: true } });
    expect((await claim(b, id)).kind).toBe("mine");
    expect(mine.kind === "mine" && (await mine.claim.done())).toBe(false);
    expect(await row(id)).toMatchObject({ state: "claimed", claimedBy: b.owner });
  });

  test("a row written before claims existed counts as done", async () => {
    [a] = claimers() as [UpdateClaims];
    const id = next++;
    await engine.insertOldRow(id);
    expect(await row(id)).toMatchObject({ state: "done", claimedBy: null, claimExpiresAt: null });
    expect((await claim(a, id)).kind).toBe("done");
  });
});
