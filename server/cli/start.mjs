// `npm start`: runs the production server, building it first when there is
// no build (a fresh clone) or the sources changed since (after a pull).
// Migrations are applied by the server itself.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildState } from "./build-state.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" };

const state = buildState(root);
if (state !== "fresh") {
  const why = state === "missing" ? "No production build found" : "The sources changed since the last build";
  process.stdout.write(`${why}: building (next build + server compile), this takes a minute…\n`);
  const build = spawnSync("npm", ["run", "build"], { cwd: root, env, stdio: "inherit" });
  if (build.status !== 0) {
    process.stderr.write("The build failed; see the output above.\n");
    process.exit(build.status ?? 1);
  }
}

const child = spawn(process.execPath, [path.join(root, "build", "server", "main.js"), ...process.argv.slice(2)], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
