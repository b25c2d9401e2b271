// One sender at a time: the lease that decides which process sends into the
// group, on both engines. Two stores on two connections stand for two
// processes sharing the database.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pino from "pino";
import { afterAll, describe, expect, test, vi } from "vitest";
import { Lease } from "../../server/cluster/lease.js";
import { SqlLeaseStore, type LeaseStore } from "../../server/cluster/lease-store.js";
import { PostgresSql, SqliteSql } from "../../server/db/sql.js";
import { applyMigrations } from "../../server/db/migrate.js";
import { applyPostgresMigrations } from "../../server/db/migrate-postgres.js";
import { createTestDatabase, engineUrl } from "../engines/engines.js";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

interface Engine {
  name: string;
  /** a store on a connection of its own to the engine's one test database */
  connect(): Promise<LeaseStore>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function sqliteEngine(): Engine {
  let file: string | null = null;
  return {
    name: "SQLite",
    async connect() {
      if (!file) {
        const dir = mkdtempSync(path.join(tmpdir(), "lease-"));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        file = path.join(dir, "lease.db");
        const db = new BetterSqlite3(file);
        db.pragma("journal_mode = WAL");
        applyMigrations(db, path.join(PROJECT_ROOT, "prisma", "migrations"));
        db.close();
      }
      const db = new BetterSqlite3(file, { timeout: 5000 });
      cleanups.push(() => void db.close());
      return new SqlLeaseStore(new SqliteSql(db));
    },
  };
}

function postgresEngine(serverUrl: string): Engine & { url(): Promise<string> } {
  let url: Promise<string> | null = null;
  return {
    url: () => url ?? Promise.reject(new Error("connect() first")),
    name: "PostgreSQL",
    async connect() {
      url ??= (async () => {
        const db = await createTestDatabase(serverUrl);
        cleanups.push(db.drop);
        await applyPostgresMigrations(db.url, path.join(PROJECT_ROOT, "prisma", "postgres", "migrations"));
        return db.url;
      })();
      const sql = new PostgresSql({ connectionString: await url, max: 2 });
      cleanups.push(() => sql.close());
      return new SqlLeaseStore(sql);
    },
  };
}

const postgresUrl = engineUrl("TEST_POSTGRES_URL");
const postgres = postgresUrl ? postgresEngine(postgresUrl) : null;
const engines: Engine[] = [sqliteEngine(), ...(postgres ? [postgres] : [])];
const logger = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let names = 0;
const freshName = () => `job-${++names}`;

describe.each(engines)("the lease on $name", (engine) => {
  test("one holder at a time; renewing keeps the epoch", async () => {
    const [a, b] = [await engine.connect(), await engine.connect()];
    const name = freshName();
    const first = await a.acquire(name, "a", 5_000);
    expect(first).not.toBeNull();
    expect(await b.acquire(name, "b", 5_000)).toBeNull();
    expect(await a.acquire(name, "a", 5_000)).toEqual(first);
    expect(await b.holds(name, first?.epoch ?? -1)).toBe(true);
  });

  test("after it expires another takes it with a new epoch, and the old holder's fenced write is refused", async () => {
    const [a, b] = [await engine.connect(), await engine.connect()];
    const name = freshName();
    const old = await a.acquire(name, "a", 300);
    expect(await b.acquire(name, "b", 5_000)).toBeNull();
    await sleep(400);
    const taken = await b.acquire(name, "b", 5_000);
    expect(taken?.epoch).toBe((old?.epoch ?? 0) + 1);
    // The old holder cannot renew, and its epoch no longer passes the fence.
    expect(await a.acquire(name, "a", 5_000)).toBeNull();
    expect(await a.holds(name, old?.epoch ?? -1)).toBe(false);
    expect(await a.holds(name, taken?.epoch ?? -1)).toBe(true);
    // Giving up with a stale epoch does not free the new holder's lease.
    await a.release(name, "a", old?.epoch ?? -1);
    expect(await a.acquire(name, "a", 5_000)).toBeNull();
  });

  test("a process that stops gives the lease up: the other takes over at once, not after the TTL", async () => {
    const name = freshName();
    const ttlMs = 6_000;
    const acquired: string[] = [];
    const first = new Lease({ store: await engine.connect(), name, instanceId: "first", ttlMs, logger, onAcquired: () => acquired.push("first") });
    const second = new Lease({ store: await engine.connect(), name, instanceId: "second", ttlMs, logger, onAcquired: () => acquired.push("second") });
    await first.start();
    await second.start();
    expect([first.held, second.held]).toEqual([true, false]);
    const epoch = first.epoch;
    const stoppedAt = performance.now();
    await first.stop();
    expect(first.held).toBe(false);
    await vi.waitFor(() => expect(second.held).toBe(true), { timeout: ttlMs / 3 + 1_000, interval: 20 });
    expect(performance.now() - stoppedAt).toBeLessThan(ttlMs / 3 + 1_000);
    expect(second.epoch).toBe((epoch ?? 0) + 1);
    expect(acquired).toEqual(["first", "second"]);
    await second.stop();
  });

  test("a process waiting for a dead holder's lease takes it just after it runs out, not up to TTL/3 later", async () => {
    const name = freshName();
    const ttlMs = 1_500;
    const dead = await engine.connect();
    await dead.acquire(name, "dead", ttlMs);
    const grabbedAt = performance.now();
    const waiting = new Lease({ store: await engine.connect(), name, instanceId: "waiting", ttlMs, logger });
    await waiting.start();
    expect(waiting.held).toBe(false);
    await vi.waitFor(() => expect(waiting.held).toBe(true), { timeout: ttlMs + 1_000, interval: 10 });
    const after = performance.now() - grabbedAt;
    expect(after).toBeGreaterThanOrEqual(ttlMs - 50);
    expect(after).toBeLessThan(ttlMs + 300);
    expect(await (await engine.connect()).expiresInMs(name)).toBeGreaterThan(ttlMs / 2);
    await waiting.stop();
  });

  test("a holder renews every TTL/3, so it keeps the lease well past one TTL", async () => {
    const name = freshName();
    const store = await engine.connect();
    const lease = new Lease({ store, name, instanceId: "steady", ttlMs: 600, logger });
    await lease.start();
    const epoch = lease.epoch;
    await sleep(1_500);
    expect(lease.held).toBe(true);
    expect(lease.epoch).toBe(epoch);
    expect(await (await engine.connect()).acquire(name, "intruder", 600)).toBeNull();
    await lease.stop();
  });

  test("a holder that cannot reach the database stops holding at its own deadline, before another can take over", async () => {
    const name = freshName();
    const real = await engine.connect();
    let reachable = true;
    const flaky: LeaseStore = {
      acquire: (...args) => (reachable ? real.acquire(...args) : Promise.reject(new Error("connection lost"))),
      release: (...args) => real.release(...args),
      holds: (...args) => real.holds(...args),
      expiresInMs: (...args) => real.expiresInMs(...args),
    };
    const lost = vi.fn();
    const ttlMs = 900;
    const lease = new Lease({ store: flaky, name, instanceId: "cut-off", ttlMs, logger, onLost: lost });
    await lease.start();
    expect(lease.held).toBe(true);
    reachable = false;
    await vi.waitFor(() => expect(lost).toHaveBeenCalledOnce(), { timeout: ttlMs + 500, interval: 10 });
    expect(lease.held).toBe(false);
    // Only now (or later) can another process take it.
    await vi.waitFor(async () => expect(await (await engine.connect()).acquire(name, "next", 5_000)).not.toBeNull(), { timeout: 1_000, interval: 50 });
    await lease.stop();
  });
});

describe.skipIf(!postgres)("the fence on PostgreSQL", () => {
  test("a write in a transaction that checked the epoch commits before a takeover can land; after it, the old epoch's write is refused", async () => {
    const store = await postgres!.connect();
    const url = await postgres!.url();
    const name = freshName();
    const old = await store.acquire(name, "old", 300);
    const writer = new PostgresSql({ connectionString: url, max: 1 });
    cleanups.push(() => writer.close());
    await writer.run("CREATE TABLE IF NOT EXISTS fenced_writes (epoch int)");

    let letItCommit!: () => void;
    const held = new Promise<void>((resolve) => (letItCommit = resolve));
    let fencePassed = false;
    const fenced = writer.transaction(async (tx) => {
      fencePassed = await store.holds(name, old?.epoch ?? -1, tx);
      await held; // the lease runs out while this transaction is open
      await tx.run("INSERT INTO fenced_writes VALUES (?)", [old?.epoch ?? -1]);
    });
    await vi.waitFor(() => expect(fencePassed).toBe(true));
    await sleep(400);
    let tookOver = false;
    const takeover = store.acquire(name, "new", 5_000).then((grant) => ((tookOver = true), grant));
    await sleep(200);
    expect(tookOver).toBe(false); // waits for the fenced transaction
    letItCommit();
    await fenced;
    expect((await takeover)?.epoch).toBe((old?.epoch ?? 0) + 1);

    expect(await writer.transaction((tx) => store.holds(name, old?.epoch ?? -1, tx))).toBe(false);
  });
});
