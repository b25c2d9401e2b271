// PostgreSQL's schema is migrated on start, by every instance that starts:
// instances starting together apply each migration once (the advisory lock),
// Prisma's CLI agrees with the bookkeeping, and the PostgreSQL client works
// on the result. Runs on the real PostgreSQL of tests/engines.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PrismaClient } from "../../server/db/generated-postgres/client.js";
import { applyPostgresMigrations } from "../../server/db/migrate-postgres.js";
import { createTestDatabase, engineUrl } from "../engines/engines.js";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

const serverUrl = engineUrl("TEST_POSTGRES_URL");
const committed = path.join(PROJECT_ROOT, "prisma", "postgres", "migrations");

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(!serverUrl)("PostgreSQL migrations", () => {
  const dropped: (() => Promise<void>)[] = [];
  const database = async () => {
    const db = await createTestDatabase(serverUrl ?? "");
    dropped.push(db.drop);
    return db.url;
  };
  let url = "";
  beforeAll(async () => {
    url = await database();
  });
  afterAll(async () => {
    for (const drop of dropped) await drop();
  });

  test("two instances starting together apply each migration once, in order", async () => {
    const [a, b] = await Promise.all([applyPostgresMigrations(url, committed), applyPostgresMigrations(url, committed)]);
    const all = [...a.applied, ...b.applied];
    // One of them found the other's work done.
    expect(a.applied.length === 0 || b.applied.length === 0).toBe(true);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all).toEqual([...all].sort());
    const rows = await query<{ migration_name: string; finished: boolean }>(
      url,
      `SELECT migration_name, finished_at IS NOT NULL AS finished FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(all);
    expect(rows.every((r) => r.finished)).toBe(true);
    expect((await applyPostgresMigrations(url, committed)).applied).toEqual([]);
    const tables = await query<{ tablename: string }>(url, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    expect(tables.map((t) => t.tablename)).toEqual(expect.arrayContaining(["messages", "outbox", "leases", "message_mapping", "notes"]));
  });

  test("prisma migrate status agrees with the bookkeeping", () => {
    const status = spawnSync("npx", ["prisma", "migrate", "status", "--config", "prisma/postgres/prisma.config.ts"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, DATABASE_URL: url, PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: "1", PRISMA_QUERY_ENGINE_LIBRARY: path.join(PROJECT_ROOT, "package.json") },
      timeout: 120_000,
    });
    expect(status.stdout + status.stderr).toContain("Database schema is up to date");
    expect(status.status).toBe(0);
  }, 150_000);

  test("a migration edited after it was applied stops start-up with its name, and a failing one leaves nothing behind", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pg-migrations-"));
    try {
      const migrations = path.join(dir, "migrations");
      cpSync(committed, migrations, { recursive: true });
      expect((await applyPostgresMigrations(url, migrations)).applied).toEqual([]);
      const init = path.join(migrations, "20261201212655_init", "migration.sql");
      appendFileSync(init, "\n-- edited\n");
      await expect(applyPostgresMigrations(url, migrations)).rejects.toThrow(/20261201212655_init was changed after it was applied/);

      const fresh = await database();
      cpSync(committed, migrations, { recursive: true });
      const broken = path.join(migrations, "29990101000000_broken");
      mkdirSync(broken);
      writeFileSync(path.join(broken, "migration.sql"), "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n");
      await expect(applyPostgresMigrations(fresh, migrations)).rejects.toThrow(/29990101000000_broken failed and was rolled back/);
      expect(await query(fresh, `SELECT 1 FROM pg_tables WHERE tablename = 'half_done'`)).toEqual([]);
      const names = await query<{ migration_name: string }>(fresh, `SELECT migration_name FROM "_prisma_migrations"`);
      expect(names.map((n) => n.migration_name)).not.toContain("29990101000000_broken");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the PostgreSQL Prisma client writes and reads back ids, big ids and times as SQLite's does", async () => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
    try {
      const at = new Date("2026-03-04T05:06:07.089Z");
      const message = await prisma.message.create({ data: { userId: "u1", text: "привет", direction: "user", createdAt: at, telegramChatId: -1001234567890n } });
      const read = await prisma.message.findUniqueOrThrow({ where: { id: message.id } });
      expect(read.createdAt.toISOString()).toBe(at.toISOString());
      expect(read.telegramChatId).toBe(-1001234567890n);
      // pg (the raw driver the stores will use) reads the same instant.
      const [raw] = await query<{ created_at: Date }>(url, `SELECT created_at FROM messages WHERE id = ${message.id}`);
      expect(raw?.created_at.toISOString()).toBe(at.toISOString());
    } finally {
      await prisma.$disconnect();
    }
  });
});
