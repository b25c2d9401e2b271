// PostgreSQL and Redis for the cluster phase: the ones TEST_POSTGRES_URL and
// TEST_REDIS_URL name (CI starts both), or else throwaway servers started by
// tests/engines/start.sh, the same script a developer sources for the engine
// tests (as root it runs PostgreSQL as the postgres user via runuser).
//
// The script is sourced in a bash that stays alive, reading its stdin: it
// prints the URLs, waits for a line (or end of file), then runs
// engines_stop. So the servers stop when the bench says so, and also when
// the bench dies in any way, since its end of the pipe closes with it.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { ROOT } from "./processes.js";

export interface BenchEngines {
  postgresUrl: string;
  redisUrl: string;
  /** "environment" (TEST_*_URL) or "started" (tests/engines/start.sh) */
  source: "environment" | "started";
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

const SCRIPT = [
  `. ${JSON.stringify(path.join(ROOT, "tests", "engines", "start.sh"))} >&2 || exit 1`,
  // A signal to this bash (Ctrl-C reaches the whole process group) still stops the servers.
  "trap 'engines_stop; exit 1' INT TERM HUP",
  'printf "ENGINES %s %s\\n" "$TEST_POSTGRES_URL" "$TEST_REDIS_URL"',
  "read -r _ || true",
  "engines_stop",
].join("\n");

export async function benchEngines(logFile: string): Promise<BenchEngines> {
  const postgres = process.env.TEST_POSTGRES_URL?.trim();
  const redis = process.env.TEST_REDIS_URL?.trim();
  if (postgres && redis) return { postgresUrl: postgres, redisUrl: redis, source: "environment", stop: async () => undefined };

  const child = spawn("bash", ["-c", SCRIPT], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  // A bash that is already gone must not turn stop() into an EPIPE.
  child.stdin.on("error", () => undefined);
  const log = createWriteStream(logFile, { flags: "a" });
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const urls = await new Promise<[string, string]>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`tests/engines/start.sh gave no URLs within ${START_TIMEOUT_MS / 1000} s (see ${logFile})`)), START_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^ENGINES (\S+) (\S+)$/m.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve([match[1] as string, match[2] as string]);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tests/engines/start.sh failed (exit ${code}; see ${logFile})`));
    });
  });
  return {
    postgresUrl: urls[0],
    redisUrl: urls[1],
    source: "started",
    async stop() {
      if (child.exitCode === null) child.stdin.end("stop\n");
      await exited;
      log.end();
    },
  };
}
