// `npm run bench`: the benchmark suite (issue 5). Starts the production
// build on loopback against a Telegram stand-in (its own process), drives it
// from this process, measures a floor server in the same run, and prints
// one table; results go to .bench/results.{json,md}.
//
//   npm run bench                  full run (~8 minutes on 2 cores, the cluster phase included)
//   npm run bench -- --quick       smoke run: small database, short cells, no drain rate
//   npm run bench -- --only=send,history   some phases: send, history, realtime, miniapp, drain, metrics, cluster
//   npm run bench -- --cluster     the cluster phase only (also `npm run bench --cluster`)
//   npm run bench -- --profile     also record a CPU profile of every service process (.bench/profiles)
//   npm run bench -- --no-build    measure the existing build even if the sources are newer
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContext, settingsFor, type BenchContext, type Row } from "./lib/context.js";
import { formatProfile, summarizeProfile } from "./lib/cpu-profile.js";
import { ensureBuild, killAll, ROOT, type ServerProcess } from "./lib/processes.js";
import { machineLine, markdownTable, textTable, type MachineInfo } from "./lib/report.js";
import { StandInProcess } from "./lib/stand-in-protocol.js";
import { clusterPhase } from "./phases/cluster.js";
import { drainPhase } from "./phases/drain.js";
import { historyPhase } from "./phases/history.js";
import { metricsScrapePhase } from "./phases/metrics-scrape.js";
import { miniAppPhase } from "./phases/mini-app.js";
import { realtimePhase } from "./phases/realtime.js";
import { sendMessagePhase } from "./phases/send-message.js";

const PHASES = ["send", "history", "realtime", "miniapp", "drain", "metrics", "cluster"] as const;
type Phase = (typeof PHASES)[number];
// The suite must stop by itself, whatever hangs.
const WATCHDOG_MS = 15 * 60_000;

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const profile = args.includes("--profile");
const onlyArg = args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
// `npm run bench --cluster` (no `--`) reaches the script only as npm's config variable npm_config_cluster.
const clusterOnly = args.includes("--cluster") || process.env.npm_config_cluster === "true";
const only = new Set<Phase>(onlyArg ? (onlyArg.split(",").filter((p) => (PHASES as readonly string[]).includes(p)) as Phase[]) : clusterOnly ? ["cluster"] : PHASES);

const outDir = path.join(ROOT, ".bench");
const logDir = path.join(outDir, "logs");
const profileDir = path.join(outDir, "profiles");
const started = Date.now();
const progress = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

function machine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown CPU",
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    mode: quick ? "quick" : "full",
  };
}

async function main(): Promise<void> {
  const info = machine();
  progress(`bench (${info.mode}) on ${machineLine(info)}`);
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  if (profile) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  ensureBuild(progress, !args.includes("--no-build"));

  const workDir = mkdtempSync(path.join(os.tmpdir(), "support-bench-"));
  const standIn = await StandInProcess.start();
  const ctx: BenchContext = createContext({
    settings: settingsFor(quick),
    workDir,
    logDir,
    ...(profile ? { profileDir } : {}),
    standIn,
    groupChatId: "-1001234567890",
    webhookSecret: "bench-webhook-secret",
    progress,
  });
  const rows: Row[] = [];
  const failures: string[] = [];
  const run = async (name: string, phase: () => Promise<Row[]>) => {
    try {
      rows.push(...(await phase()));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`${name}: ${message}`);
      progress(`phase ${name} failed: ${message}`);
    }
  };
  try {
    if (only.has("send")) await run("send", () => sendMessagePhase(ctx));
    if (only.has("history")) await run("history", () => historyPhase(ctx));
    if (only.has("realtime") || only.has("miniapp")) {
      let live: ServerProcess | null = null;
      await run("live", async () => {
        live = await ctx.startApp("live");
        return [];
      });
      if (live) {
        const app: ServerProcess = live;
        if (only.has("realtime")) await run("realtime", () => realtimePhase(ctx, app));
        if (only.has("miniapp")) await run("miniapp", () => miniAppPhase(ctx, app));
        await app.stop();
      }
    }
    if (only.has("drain")) await run("drain", () => drainPhase(ctx));
    if (only.has("metrics")) await run("metrics", () => metricsScrapePhase(ctx));
    if (only.has("cluster")) await run("cluster", () => clusterPhase(ctx));
  } finally {
    await standIn.stop();
    killAll();
    rmSync(workDir, { recursive: true, force: true });
  }

  info.durationSeconds = (Date.now() - started) / 1000;
  const table = textTable(rows, info);
  process.stdout.write(`\n${table}\n`);
  if (failures.length) process.stdout.write(`\nPhases that could not run:\n${failures.map((f) => `  - ${f}`).join("\n")}\n`);
  const missed = rows.filter((r) => r.pass === false);
  process.stdout.write(`\n${rows.filter((r) => r.pass).length} targets met, ${missed.length} missed${failures.length ? `, ${failures.length} phases failed` : ""}.\n`);

  let profiles = "";
  if (profile) {
    for (const file of readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"))) {
      const text = formatProfile(file.replace(/\.cpuprofile$/, ""), summarizeProfile(path.join(profileDir, file)));
      writeFileSync(path.join(profileDir, file.replace(/\.cpuprofile$/, ".txt")), `${text}\n`);
      profiles += `${text}\n\n`;
    }
    process.stdout.write(`\nCPU profiles (${profileDir}):\n\n${profiles}`);
  }
  writeFileSync(path.join(outDir, "results.json"), `${JSON.stringify({ machine: info, settings: ctx.settings, rows, failures }, null, 2)}\n`);
  writeFileSync(path.join(outDir, "results.md"), `${markdownTable(rows, info)}\n${failures.length ? `\nPhases that could not run:\n${failures.map((f) => `- ${f}`).join("\n")}\n` : ""}`);
  progress(`results written to ${path.relative(ROOT, outDir)}/results.json and results.md`);
  process.exitCode = failures.length ? 1 : 0;
}

const watchdog = setTimeout(() => {
  progress(`the run took longer than ${WATCHDOG_MS / 60_000} minutes: stopping`);
  killAll();
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();
// Whatever ends this process, no server it started outlives it.
process.on("exit", killAll);
process.on("unhandledRejection", (reason) => {
  progress(`unexpected failure: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  process.exit(1);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

main()
  .catch((error: unknown) => {
    progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    killAll();
    process.exitCode = 1;
  })
  .finally(() => {
    clearTimeout(watchdog);
    // Closed socket.io clients and keep-alive agents may hold the loop open for a while.
    process.exit();
  });
