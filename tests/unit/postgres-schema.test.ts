// The PostgreSQL schema is derived from the SQLite one; a stale committed
// copy (someone changed prisma/schema.prisma and forgot to regenerate) would
// give the two engines different tables, so it fails here.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { postgresSchema, SOURCE, TARGET } from "../../server/db/postgres-schema.mjs";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), "utf8");
const migrationNames = (dir: string) =>
  readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

test("the committed PostgreSQL schema is the one derived from the SQLite schema (npm run db:migration refreshes it)", () => {
  expect(read(TARGET)).toBe(postgresSchema(read(SOURCE)));
});

test("the PostgreSQL copy has its own provider and client, and keeps times with their zone", () => {
  const schema = postgresSchema(read(SOURCE));
  expect(schema).toMatch(/provider = "postgresql"/);
  expect(schema).not.toMatch(/"sqlite"/);
  expect(schema).toMatch(/output\s*= "\.\.\/\.\.\/server\/db\/generated-postgres"/);
  const dateTimes = schema.split("\n").filter((line) => /^\s+\w+\s+DateTime\??\s/.test(line));
  expect(dateTimes.length).toBeGreaterThan(10);
  for (const line of dateTimes) expect(line).toContain("@db.Timestamptz(3)");
});

test("every schema change since PostgreSQL's first migration has a migration for both engines", () => {
  const sqlite = migrationNames("prisma/migrations");
  const postgres = migrationNames("prisma/postgres/migrations");
  const [first, ...later] = postgres.sort();
  expect(first).toMatch(/_init$/);
  expect(sqlite.filter((name) => name > (first ?? ""))).toEqual(later);
});
