// The webhook's claims on processed_updates (server/telegram/update-claims.ts)
// on both engines: two claimers with connections of their own, as two
// instances have, on one SQLite file and on the real PostgreSQL of
// tests/engines (skipped outside CI when it is not started).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { openDatabase } from "../../server/db/database.js";
import { applyPostgresMigrations } from "../../server/db/migrate-postgres.js";
import { PostgresSql, readTime, type Sql, type SqlTime } from "../../server/db/sql.js";
import { createLogger } from "../../server/logger.js";
import { UpdateClaims, type ClaimResult } from "../../server/telegram/update-claims.js";
import { createTestDatabase, engineUrl } from "../engines/engines.js";
import { PROJECT_ROOT, sqliteOf } from "../fixtures/test-app.js";

const logger = createLogger({ level: "silent", secrets: [] });
const postgresUrl = engineUrl("TEST_POSTGRES_URL");

interface Engine {
  /** one connection per instance, all on the same database */
  connections: Sql[];
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
    connections: [a.sql, b.sql],
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
  const connections = [0, 1].map(() => new PostgresSql({ connectionString: db.url }));
  return {
    connections,
    async insertOldRow(updateId) {
      await connections[0]?.run(`INSERT INTO processed_updates (update_id, created_at) VALUES (?, now())`, [updateId]);
    },
    async close() {
      for (const c of connections) await c.close();
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
  const claimers = (ttlMs?: number) => engine.connections.map((sql, i) => new UpdateClaims({ sql, instanceId: `instance-${i}`, ttlMs, logger }));

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
  const row = async (id: number) => {
    const found = await engine.connections[0]?.get<{ state: string; claimed_by: string | null; claim_expires_at: SqlTime | null }>(
      "SELECT state, claimed_by, claim_expires_at FROM processed_updates WHERE update_id = ?",
      [id],
    );
    return found ? { state: found.state, claimedBy: found.claimed_by, claimExpiresAt: readTime(found.claim_expires_at) } : null;
  };

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
    await engine.connections[0]?.run("INSERT INTO processed_updates (update_id, created_at, state, claimed_by, claim_expires_at) VALUES (?, ?, 'claimed', 'dead/00000000', ?)", [
      id,
      new Date(),
      new Date(Date.now() - 1000),
    ]);
    const results = await Promise.all([claim(a, id), claim(b, id), claim(a, id), claim(b, id)]);
    expect(kinds(results)).toEqual(["held", "held", "held", "mine"]);
    const current = await row(id);
    expect([a.owner, b.owner]).toContain(current?.claimedBy);
    expect(current?.claimExpiresAt?.getTime()).toBeGreaterThan(Date.now());
  });

  test("a live holder renews its claim, so a slow update is never taken over", async () => {
    // Renewed every third of the claim's 900 ms: a renewal may run late by
    // up to 600 ms (a busy CI machine) before the claim lapses.
    [a, b] = claimers(900) as [UpdateClaims, UpdateClaims];
    const id = next++;
    expect((await claim(a, id)).kind).toBe("mine");
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect((await claim(b, id)).kind).toBe("held"); // 3 s in all: over three times the claim's 900 ms
    }
    expect((await row(id))?.claimedBy).toBe(a.owner);
  });

  test("a holder whose claim expired and was taken over is told so when it finishes", async () => {
    [a, b] = claimers(60_000) as [UpdateClaims, UpdateClaims]; // no renewal during the test
    const id = next++;
    const mine = await claim(a, id);
    // As if a's renewals had not reached the database for longer than the claim lasts.
    await engine.connections[1]?.run("UPDATE processed_updates SET claim_expires_at = ? WHERE update_id = ? AND state = 'claimed'", [new Date(Date.now() - 1), id]);
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
