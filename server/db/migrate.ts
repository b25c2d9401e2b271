// Applies the committed Prisma migrations in-process at start-up. It keeps
// Prisma's own bookkeeping table (`_prisma_migrations`, checksum = SHA-256 of
// migration.sql), so `prisma migrate status` and `prisma migrate deploy` agree
// with it; doing it here instead of spawning the CLI keeps start-up and every
// test database at milliseconds rather than seconds.
//
// Foreign keys are switched off around each migration, outside its
// transaction: SQLite ignores `PRAGMA foreign_keys` inside one, and Prisma's
// SQLite migrations rebuild a table (CREATE new_x, INSERT … SELECT, DROP x,
// RENAME), so with the enforcement on, DROP TABLE of a parent (diary_users)
// would cascade and delete every note and session. `foreign_key_check` then
// runs before the commit, so a migration that leaves a dangling reference is
// rolled back instead of stored.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Database } from "better-sqlite3";

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export interface MigrationResult {
  applied: string[];
}

export class MigrationError extends Error {}

interface ForeignKeyViolation {
  table: string;
  rowid: number | null;
  parent: string;
}

function refuseDanglingReferences(db: Database, name: string): void {
  const violations = db.pragma("foreign_key_check") as ForeignKeyViolation[];
  if (violations.length === 0) return;
  const tables = [...new Set(violations.map((v) => `${v.table} → ${v.parent}`))].join(", ");
  throw new MigrationError(
    `migration ${name} leaves ${violations.length} row(s) pointing at missing rows (${tables}); it was rolled back. Fix the migration so every reference still has its row.`,
  );
}

export interface MigrationFile {
  name: string;
  sql: string;
  /** what Prisma keeps in _prisma_migrations.checksum */
  checksum: string;
}

/** The committed migrations in `migrationsDir`, in the order they apply. */
export function readMigrations(migrationsDir: string): MigrationFile[] {
  if (!existsSync(migrationsDir)) throw new MigrationError(`no migrations folder at ${migrationsDir}`);
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(migrationsDir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(migrationsDir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/** Whether `migration` is already applied according to its bookkeeping row; stops start-up when that row says it is broken or edited. */
export function alreadyApplied(migration: MigrationFile, row: { checksum: string; finished: boolean } | undefined): boolean {
  if (!row) return false;
  if (!row.finished) throw new MigrationError(`migration ${migration.name} was started but never finished; repair the database with "prisma migrate resolve"`);
  if (row.checksum !== migration.checksum) throw new MigrationError(`migration ${migration.name} was changed after it was applied`);
  return true;
}

export function applyMigrations(db: Database, migrationsDir: string): MigrationResult {
  const migrations = readMigrations(migrationsDir);
  db.exec(BOOKKEEPING);
  const done = new Map(
    (db.prepare(`SELECT migration_name AS name, checksum, finished_at AS finishedAt FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`).all() as {
      name: string;
      checksum: string;
      finishedAt: string | null;
    }[]).map((row) => [row.name, row]),
  );
  const applied: string[] = [];
  const record = db.prepare(
    `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)`,
  );
  for (const migration of migrations) {
    const { name, sql, checksum } = migration;
    const previous = done.get(name);
    if (alreadyApplied(migration, previous && { checksum: previous.checksum, finished: previous.finishedAt !== null })) continue;
    const startedAt = new Date().toISOString();
    const enforced = db.pragma("foreign_keys", { simple: true }) === 1;
    db.pragma("foreign_keys = OFF");
    try {
      db.transaction(() => {
        db.exec(sql);
        refuseDanglingReferences(db, name);
        record.run(randomUUID(), checksum, new Date().toISOString(), name, startedAt);
      })();
    } finally {
      if (enforced) db.pragma("foreign_keys = ON");
    }
    applied.push(name);
  }
  return { applied };
}
