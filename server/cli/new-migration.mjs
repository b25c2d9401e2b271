// `npm run db:migration -- <name>`: writes the SQL that takes the database
// from the schema as last committed to prisma/schema.prisma as it is now,
// for both engines: prisma/migrations/<timestamp>_<name>/migration.sql
// (SQLite) and prisma/postgres/migrations/<timestamp>_<name>/migration.sql
// (PostgreSQL), after refreshing prisma/postgres/schema.prisma from the
// SQLite source. The server applies new migrations on its next start.
//
// Why not `prisma migrate dev`: with the driver-adapter setup this project
// uses offline (see prisma.config.ts), Prisma's CLI cannot use a shadow
// database, but it can diff two schema files, which is all this needs. The
// PostgreSQL "before" is derived from the committed SQLite schema the same
// way the copy is, so the two folders always describe the same change.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { postgresSchema, TARGET, writePostgresSchema } from "../db/postgres-schema.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  process.stderr.write("usage: npm run db:migration -- <name in snake_case>\n");
  process.exit(2);
}
const scratch = mkdtempSync(path.join(tmpdir(), "schema-"));
const committedSqlite = execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], { cwd: root, encoding: "utf8" });
writePostgresSchema(root);

/** The SQL from `from` (a schema file, or null: an empty database) to `to`. */
function diff(from, to) {
  const run = spawnSync(
    "npx",
    ["prisma", "migrate", "diff", ...(from ? ["--from-schema-datamodel", from] : ["--from-empty"]), "--to-schema-datamodel", to, "--script"],
    {
      cwd: root,
      encoding: "utf8",
      // The diff needs no query engine; these keep the CLI from trying to download one.
      // prisma.config.ts opens DATABASE_URL; a scratch file keeps the real one untouched.
      env: {
        ...process.env,
        DATABASE_URL: `file:${path.join(scratch, "scratch.db")}`,
        PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: "1",
        PRISMA_QUERY_ENGINE_LIBRARY: path.join(root, "package.json"),
      },
    },
  );
  if (run.status !== 0) {
    process.stderr.write(run.stderr);
    process.exit(run.status ?? 1);
  }
  return run.stdout;
}

const changes = (sql) => /\b(CREATE|ALTER|DROP)\b/.test(sql);
const hasMigrations = (dir) => existsSync(dir) && readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());

const previousSqlite = path.join(scratch, "schema.prisma");
writeFileSync(previousSqlite, committedSqlite);
const sqliteSql = diff(previousSqlite, "prisma/schema.prisma");

const postgresDir = path.join(root, "prisma", "postgres", "migrations");
const previousPostgres = path.join(scratch, "postgres.prisma");
writeFileSync(previousPostgres, postgresSchema(committedSqlite));
// The first PostgreSQL migration creates everything.
const postgresSql = diff(hasMigrations(postgresDir) ? previousPostgres : null, TARGET);

if (!changes(sqliteSql) && !changes(postgresSql)) {
  process.stdout.write("prisma/schema.prisma has no changes since the last commit: no migration written.\n");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const written = [];
for (const [dir, sql] of [
  [path.join(root, "prisma", "migrations"), sqliteSql],
  [postgresDir, postgresSql],
]) {
  if (!changes(sql)) continue;
  const file = path.join(dir, `${stamp}_${name}`, "migration.sql");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, sql);
  written.push(path.relative(root, file));
}
process.stdout.write(`wrote ${written.join(" and ")} (and ${TARGET}); review them, run npm run test:unit, commit them with the schema.\n`);
