// Starting, watching and stopping the servers under test: the production
// build of the service (node build/server/main.js) and the floor server,
// each in a process of its own on loopback.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { buildState } from "../../../server/cli/build-state.mjs";

export const ROOT = path.resolve(import.meta.dirname, "..", "..", "..");
/** the production build, started as server/main.ts does but with the rate limits raised (see app-entry.mjs) */
const APP_ENTRY = path.join(ROOT, "tests", "bench", "app-entry.mjs");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Builds (npm run build) when there is no production build or the sources are newer than it. */
export function ensureBuild(log: (line: string) => void, allowRebuild: boolean): void {
  const state = buildState(ROOT);
  if (state === "fresh" || (state === "stale" && !allowRebuild)) {
    if (state === "stale") log("warning: sources are newer than the production build; measuring the build as it is (--no-build)");
    return;
  }
  log(state === "missing" ? "no production build: running npm run build" : "sources changed since the last build: running npm run build");
  const result = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" } });
  if (result.status !== 0) throw new Error("npm run build failed");
}

export interface ServerProcess {
  name: string;
  url: string;
  port: number;
  pid: number;
  /** resident set size in bytes, from /proc/<pid>/status */
  rss(): number;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} during start-up`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms`);
}

export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return kb ? Number(kb[1]) * 1024 : NaN;
}

// Every server this run started, so an aborted run leaves none behind.
const live = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

function manage(name: string, child: ChildProcess, port: number): ServerProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    rss: () => readRss(child.pid as number),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", () => {
          clearTimeout(force);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

export interface AppStartOptions {
  name: string;
  dir: string;
  env: Record<string, string>;
  logFile: string;
  /** directory for --cpu-prof output, when profiling */
  profileDir?: string;
}

export async function startApp(options: AppStartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const execArgv = options.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${options.name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...execArgv, APP_ENTRY], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      SERVER_HOST: "127.0.0.1",
      SERVER_PORT: String(port),
      DATABASE_URL: `file:${path.join(options.dir, "app.db")}`,
      UPLOAD_DIR: path.join(options.dir, "uploads"),
      LOG_LEVEL: "info",
      ...options.env,
    },
  });
  const log = createWriteStream(options.logFile, { flags: "a" });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const server = manage(options.name, child, port);
  await waitReady(`${server.url}/health`, child, options.name, 60_000);
  return server;
}

export async function startFloor(dbFile: string, standIn: { apiRoot: string; token: string }, groupChatId: string, logFile: string): Promise<ServerProcess> {
  const port = await freePort();
  const file = path.join(ROOT, "tests", "bench", "floor-server.ts");
  const child = spawn(process.execPath, ["--import", "tsx", file, dbFile, String(port), standIn.apiRoot, standIn.token, groupChatId], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const server = manage("floor", child, port);
  await waitReady(`${server.url}/health`, child, "floor", 30_000);
  return server;
}
