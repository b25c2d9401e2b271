// `npm start`: runs the production server, building it first when there is
// no build yet (a fresh clone). Migrations are applied by the server itself.
import { spawnSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" };
const entry = path.join(root, "build", "server", "main.js");

if (!existsSync(entry) || !existsSync(path.join(root, ".next", "BUILD_ID"))) {
  process.stdout.write("No production build found: building (next build + server compile), this takes a minute…\n");
  const build = spawnSync("npm", ["run", "build"], { cwd: root, env, stdio: "inherit" });
  if (build.status !== 0) {
    process.stderr.write("The build failed; see the output above.\n");
    process.exit(build.status ?? 1);
  }
}

const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
