// Applies the committed PostgreSQL migrations (prisma/postgres/migrations)
// at start-up, as server/db/migrate.ts does for SQLite, keeping Prisma's
// bookkeeping table (`_prisma_migrations`, checksum = SHA-256 of
// migration.sql) so `prisma migrate status` agrees with it.
//
// Instances starting together migrate one after the other: each holds a
// session-level `pg_advisory_lock` while it reads the table and applies what
// is missing, so the second finds the first's work done. The lock belongs to
// the connection: if a migrating process dies, PostgreSQL drops it with the
// connection and the next instance goes on. Each migration runs in its own
// transaction with its bookkeeping row (PostgreSQL's DDL is transactional),
// so a failed one leaves nothing half-applied.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { alreadyApplied, MigrationError, readMigrations, type MigrationFile, type MigrationResult } from "./migrate.js";

/** Any fixed 64-bit number; the one this service's migrations serialise on. */
export const MIGRATION_LOCK_KEY = 7_306_914_825_011n;

// Prisma's own definition of the table on PostgreSQL.
const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Applies what is missing, holding the migration lock on one connection of its own. */
export async function applyPostgresMigrations(connectionString: string, migrationsDir: string): Promise<MigrationResult> {
  const migrations = readMigrations(migrationsDir);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY.toString()]);
    try {
      return await applyLocked(client, migrations);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    await client.end();
  }
}

async function applyLocked(client: pg.Client, migrations: MigrationFile[]): Promise<MigrationResult> {
  await client.query(BOOKKEEPING);
  const { rows } = await client.query<{ name: string; checksum: string; finished: boolean }>(
    `SELECT migration_name AS name, checksum, finished_at IS NOT NULL AS finished FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
  );
  const done = new Map(rows.map((row) => [row.name, row]));
  const applied: string[] = [];
  for (const migration of migrations) {
    const { name, sql, checksum } = migration;
    if (alreadyApplied(migration, done.get(name))) continue;
    await client.query("BEGIN");
    try {
      const started = new Date();
      await client.query(sql);
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ($1, $2, now(), $3, $4, 1)`,
        [randomUUID(), checksum, name, started],
      );
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw new MigrationError(`migration ${name} failed and was rolled back: ${error instanceof Error ? error.message : String(error)}`);
    }
    applied.push(name);
  }
  return { applied };
}
