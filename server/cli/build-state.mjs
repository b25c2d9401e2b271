// Whether the production build (.next + build/server) is missing, older
// than the sources it is made from, or fresh. Plain JavaScript: it runs
// before anything is compiled (npm start) and from the benchmark.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const SOURCES = ["server", "app", "prisma", "next.config.mjs", "package.json"];

function newestMtime(target) {
  if (!existsSync(target)) return 0;
  const info = statSync(target);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target, { withFileTypes: true, recursive: true })) {
    // Prisma's generated client is rewritten by every install; it follows the schema.
    if (!entry.isFile() || entry.parentPath.includes(`${path.sep}generated`)) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** @param {string} root the project folder @returns {"missing" | "stale" | "fresh"} */
export function buildState(root) {
  const server = path.join(root, "build", "server", "main.js");
  const next = path.join(root, ".next", "BUILD_ID");
  if (!existsSync(server) || !existsSync(next)) return "missing";
  const builtAt = Math.min(statSync(server).mtimeMs, statSync(next).mtimeMs);
  const changedAt = Math.max(...SOURCES.map((source) => newestMtime(path.join(root, source))));
  return changedAt > builtAt ? "stale" : "fresh";
}
