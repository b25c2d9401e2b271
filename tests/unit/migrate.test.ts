// Migrations applied at start: every committed one once, in order, in
// Prisma's bookkeeping table; an edited migration stops start-up.
import { cpSync, mkdtempSync, rmSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, test } from "vitest";
import { applyMigrations, MigrationError } from "../../server/db/migrate.js";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

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
