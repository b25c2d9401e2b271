// `prisma generate` for both clients: SQLite (prisma/schema.prisma) and
// PostgreSQL (prisma/postgres/schema.prisma). Run by postinstall and build.
// It lives in prisma/ because the image installs its dependencies (and so
// runs postinstall) with only package.json, the lock file and prisma/ copied.
//
// The generator needs no query engine (engineType = "client"), but with
// --schema the CLI still fetches one at start unless PRISMA_QUERY_ENGINE_LIBRARY
// names an existing file; offline that fetch fails (see ENVIRONMENT.md).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = {
  ...process.env,
  PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: "1",
  PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? path.join(root, "package.json"),
};
for (const schema of ["prisma/schema.prisma", "prisma/postgres/schema.prisma"]) {
  const run = spawnSync("npx", ["prisma", "generate", "--schema", schema], { cwd: root, env, stdio: "inherit" });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
