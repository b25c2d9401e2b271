// What every phase gets from the driver, and what it hands back: rows of
// the one results table.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { startApp, type ServerProcess } from "./processes.js";
import type { StandInProcess } from "./stand-in-protocol.js";

export interface BenchSettings {
  quick: boolean;
  /** seconds of warm-up and of measurement per load cell */
  warmupMs: number;
  cellMs: number;
  /** alternating rounds a cell's measured time is split into */
  rounds: number;
  historySizes: number[];
  historyUsers: number;
  replies: number;
  idleSockets: number;
  fanoutSockets: number;
  fanoutRounds: number;
  backlog: number;
  /** drain: how many full per-group windows to observe (0: a short look only) */
  drainWindows: number;
  browserRuns: number;
}

export function settingsFor(quick: boolean): BenchSettings {
  return quick
    ? { quick, warmupMs: 500, cellMs: 1500, rounds: 1, historySizes: [10_000, 100_000], historyUsers: 1_000, replies: 50, idleSockets: 1_000, fanoutSockets: 200, fanoutRounds: 5, backlog: 40, drainWindows: 0, browserRuns: 2 }
    : { quick, warmupMs: 1_500, cellMs: 5_000, rounds: 3, historySizes: [100_000, 1_000_000], historyUsers: 1_000, replies: 300, idleSockets: 10_000, fanoutSockets: 1_000, fanoutRounds: 20, backlog: 200, drainWindows: 2, browserRuns: 5 };
}

export interface Row {
  /** stable key for results.json */
  id: string;
  group: string;
  metric: string;
  target: string;
  measured: string;
  /** the floor's figure this row is compared with, as text */
  floor?: string;
  /** measured / floor (throughput) */
  ratio?: number;
  pass?: boolean;
  /** numbers behind the text, for results.json */
  data: Record<string, unknown>;
}

export interface BenchContext {
  settings: BenchSettings;
  workDir: string;
  logDir: string;
  profileDir?: string;
  standIn: StandInProcess;
  groupChatId: string;
  webhookSecret: string;
  progress(line: string): void;
  /** starts the production service with a fresh folder (or `dir`) and the stand-in as Telegram */
  startApp(name: string, options?: { dir?: string; env?: Record<string, string> }): Promise<ServerProcess>;
  /** a fresh folder under the run's work dir */
  folder(name: string): string;
}

export function createContext(base: Omit<BenchContext, "startApp" | "folder">): BenchContext {
  const folder = (name: string) => {
    const dir = path.join(base.workDir, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  return {
    ...base,
    folder,
    startApp: (name, options = {}) =>
      startApp({
        name,
        dir: options.dir ?? folder(name),
        logFile: path.join(base.logDir, `${name}.log`),
        profileDir: base.profileDir,
        env: {
          BOT_TOKEN: base.standIn.token,
          GROUP_CHAT_ID: base.groupChatId,
          TELEGRAM_API_ROOT: base.standIn.apiRoot,
          TELEGRAM_MODE: "webhook",
          TELEGRAM_WEBHOOK_SECRET: base.webhookSecret,
          ...options.env,
        },
      }),
  };
}

export const ms = (value: number) => (Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)) : "n/a");
export const rate = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");
