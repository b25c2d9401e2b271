// Migrations applied at start: every committed one once, in order, in
// Prisma's bookkeeping table; an edited migration stops start-up; a table
// rebuild never cascades into the children, and a migration that leaves a
// dangling reference is rolled back.
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, test } from "vitest";
import { openDatabase } from "../../server/db/database.js";
import { applyMigrations, MigrationError } from "../../server/db/migrate.js";
import { PROJECT_ROOT, sqliteOf } from "../fixtures/test-app.js";

const committed = path.join(PROJECT_ROOT, "prisma", "migrations");
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "migrate-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

test("a new database gets every migration once; a current one gets none", () => {
  const db = new Database(path.join(scratch(), "a.db"));
  const first = applyMigrations(db, committed);
  expect(first.applied.length).toBeGreaterThanOrEqual(2);
  expect(first.applied).toEqual([...first.applied].sort());
  expect(applyMigrations(db, committed).applied).toEqual([]);
  const rows = db.prepare(`SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name`).all() as { migration_name: string; finished_at: string | null }[];
  expect(rows.map((r) => r.migration_name)).toEqual(first.applied);
  expect(rows.every((r) => r.finished_at)).toBe(true);
  expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'messages'").get()).toBeTruthy();
  db.close();
});

test("a migration edited after it was applied stops start-up with its name", () => {
  const migrations = path.join(scratch(), "migrations");
  cpSync(committed, migrations, { recursive: true });
  const db = new Database(path.join(scratch(), "b.db"));
  const { applied } = applyMigrations(db, migrations);
  appendFileSync(path.join(migrations, applied[0] as string, "migration.sql"), "\n-- edited\n");
  expect(() => applyMigrations(db, migrations)).toThrow(MigrationError);
  expect(() => applyMigrations(db, migrations)).toThrow(new RegExp(`${applied[0]} was changed after it was applied`));
  db.close();
});

// Prisma's own SQL for a table it has to rebuild on SQLite (here: a new
// column in the middle of diary_users), as `prisma migrate dev` writes it.
const REBUILD_DIARY_USERS = `-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_diary_users" (
    "id" BIGINT NOT NULL PRIMARY KEY,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT,
    "time_zone" TEXT,
    "username" TEXT,
    "language_code" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);
INSERT INTO "new_diary_users" ("created_at", "first_name", "id", "language_code", "last_name", "updated_at", "username") SELECT "created_at", "first_name", "id", "language_code", "last_name", "updated_at", "username" FROM "diary_users";
DROP TABLE "diary_users";
ALTER TABLE "new_diary_users" RENAME TO "diary_users";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
`;

function addMigration(migrations: string, name: string, sql: string): void {
  mkdirSync(path.join(migrations, name));
  writeFileSync(path.join(migrations, name, "migration.sql"), sql);
}

test("a migration that rebuilds diary_users keeps every user's notes and sessions", async () => {
  const migrations = path.join(scratch(), "migrations");
  cpSync(committed, migrations, { recursive: true });
  const file = path.join(scratch(), "rebuild.db");
  const before = await openDatabase({ url: `file:${file}`, migrationsDir: migrations });
  await before.prisma.diaryUser.create({
    data: {
      id: 42n,
      firstName: "Аня",
      notes: { create: [{ text: "первая" }, { text: "вторая" }] },
      sessions: { create: { tokenHash: "a".repeat(64) } },
    },
  });
  await before.close();

  addMigration(migrations, "29990101000000_diary_user_time_zone", REBUILD_DIARY_USERS);
  const after = await openDatabase({ url: `file:${file}`, migrationsDir: migrations });
  try {
    expect(after.appliedMigrations).toEqual(["29990101000000_diary_user_time_zone"]);
    expect((await after.prisma.note.findMany({ where: { userId: 42n }, orderBy: { id: "asc" } })).map((n) => n.text)).toEqual(["первая", "вторая"]);
    expect(await after.prisma.diarySession.count({ where: { userId: 42n } })).toBe(1);
    const columns = (sqliteOf(after).pragma("table_info(diary_users)") as { name: string }[]).map((c) => c.name);
    expect(columns).toContain("time_zone");
    // enforcement is back on after the migration, on both connections
    expect(() => sqliteOf(after).prepare(`INSERT INTO notes (user_id, text, updated_at) VALUES (7, 'x', 0)`).run()).toThrow(/FOREIGN KEY/);
    await after.prisma.diaryUser.delete({ where: { id: 42n } });
    expect(await after.prisma.note.count({ where: { userId: 42n } })).toBe(0);
  } finally {
    await after.close();
  }
});

test("a migration that leaves a note without its user is refused, rolled back and not recorded", () => {
  const migrations = path.join(scratch(), "migrations");
  cpSync(committed, migrations, { recursive: true });
  const db = new Database(path.join(scratch(), "dangling.db"));
  db.pragma("foreign_keys = ON");
  applyMigrations(db, migrations);
  db.prepare(`INSERT INTO diary_users (id, first_name, updated_at) VALUES (1, 'Ivan', 0)`).run();
  db.prepare(`INSERT INTO notes (user_id, text, updated_at) VALUES (1, 'keep me', 0)`).run();

  const name = "29990101000000_drop_users_by_mistake";
  addMigration(migrations, name, `CREATE TABLE "probe" ("x" INTEGER);\nDELETE FROM "diary_users";\n`);
  expect(() => applyMigrations(db, migrations)).toThrow(MigrationError);
  expect(() => applyMigrations(db, migrations)).toThrow(new RegExp(`${name} leaves 1 row\\(s\\) pointing at missing rows \\(notes → diary_users\\); it was rolled back`));

  expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'probe'").get()).toBeUndefined();
  expect(db.prepare("SELECT count(*) FROM diary_users").pluck().get()).toBe(1);
  expect(db.prepare("SELECT text FROM notes").pluck().all()).toEqual(["keep me"]);
  expect(db.prepare(`SELECT count(*) FROM "_prisma_migrations" WHERE migration_name = ?`).pluck().get(name)).toBe(0);
  expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
  db.close();
});
