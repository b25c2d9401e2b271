// `npm run db:migration -- <name>`: writes the SQL that takes the database
// from the schema as last committed to prisma/schema.prisma as it is now, as
// prisma/migrations/<timestamp>_<name>/migration.sql. The server applies new
// migrations on its next start.
//
// Why not `prisma migrate dev`: with the driver-adapter setup this project
// uses offline (see prisma.config.ts), Prisma's CLI cannot use a shadow
// database, but it can diff two schema files, which is all this needs.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  process.stderr.write("usage: npm run db:migration -- <name in snake_case>\n");
  process.exit(2);
}
const scratch = mkdtempSync(path.join(tmpdir(), "schema-"));
const previous = path.join(scratch, "schema.prisma");
writeFileSync(previous, execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], { cwd: root }));
const diff = spawnSync(
  "npx",
  ["prisma", "migrate", "diff", "--from-schema-datamodel", previous, "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
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
if (diff.status !== 0) {
  process.stderr.write(diff.stderr);
  process.exit(diff.status ?? 1);
}
if (!/\b(CREATE|ALTER|DROP)\b/.test(diff.stdout)) {
  process.stdout.write("prisma/schema.prisma has no changes since the last commit: no migration written.\n");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join(root, "prisma", "migrations", `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "migration.sql"), diff.stdout);
process.stdout.write(`wrote ${path.relative(root, path.join(dir, "migration.sql"))}; review it, run npm run test:unit, commit it with the schema.\n`);
