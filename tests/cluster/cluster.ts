// A cluster on loopback (SPEC §8): real instances of the service from ONE
// production build (tests/cluster/instance-entry.mjs over build/), each its
// own process with its own INSTANCE_ID and port, sharing one database, one
// UPLOAD_DIR, the test's Telegram and FCM stand-ins, behind nginx running
// the shipped deploy/nginx.conf. Instances keep their port across restarts,
// since nginx's upstream list names them.
//
// Storage: one SQLite file by default (two processes on one file: the
// sender lease makes one of them the sender), or PostgreSQL + Redis
// (clusterEngines()), the cluster mode of SPEC §8.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, freePort } from "../bench/lib/processes.js";
import { startFcmStandIn, writeFakeServiceAccount, type FakeServiceAccount, type FcmStandIn } from "../fixtures/fcm-stand-in.js";
import { requestJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { createTestDatabase, engineUrl } from "../engines/engines.js";
import { startNginx, type Nginx } from "./nginx.js";

/**
 * A fresh PostgreSQL database and a Redis for one cluster (TEST_POSTGRES_URL,
 * TEST_REDIS_URL; in CI they must be there). `redisUrl` overrides the
 * shared Redis, for a test that stops its own.
 */
export async function clusterEngines(redisUrl?: string): Promise<{ databaseUrl: string; redisUrl: string; drop(): Promise<void> }> {
  const postgres = engineUrl("TEST_POSTGRES_URL");
  const redis = redisUrl ?? engineUrl("TEST_REDIS_URL");
  if (!postgres || !redis) throw new Error("the cluster tests need PostgreSQL and Redis: . tests/engines/start.sh");
  const db = await createTestDatabase(postgres);
  return { databaseUrl: db.url, redisUrl: redis, drop: db.drop };
}

const ENTRY = path.join(ROOT, "tests", "cluster", "instance-entry.mjs");
export const WEBHOOK_SECRET = "cluster-secret_123";

export interface ClusterOptions {
  group: number;
  /** instance names, also their INSTANCE_ID (default: a and b) */
  names?: string[];
  /** more environment for every instance (TELEGRAM_MODE=polling, ...) */
  env?: Record<string, string>;
  /** default: a fresh SQLite file in the cluster's folder */
  databaseUrl?: string;
  /** set REDIS_URL on every instance (cluster mode) */
  redisUrl?: string;
}

export interface Health {
  status: string;
  instance: string;
  leader: boolean;
  telegram: string;
  push: string;
  queue: { depth: number };
}

export interface Instance {
  readonly name: string;
  readonly port: number;
  /** the instance itself, bypassing nginx */
  readonly url: string;
  running(): boolean;
  /** everything the current (or last) process wrote */
  output(): string;
}

export interface Cluster {
  tg: TelegramStandIn;
  fcm: FcmStandIn;
  /** nginx's address: where clients go */
  lbUrl: string;
  dir: string;
  instances: Instance[];
  instance(name: string): Instance;
  /** starts a stopped or killed instance again on its port; resolves when it listens */
  start(name: string): Promise<void>;
  /** SIGTERM; resolves with the exit code */
  stop(name: string): Promise<number | null>;
  /** SIGKILL; resolves when the process is gone */
  kill(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  health(name: string): Promise<Health>;
  /** /health of every running instance */
  healths(): Promise<Health[]>;
  /** the sum of one metric's samples on one instance's /metrics whose labels include `labels` */
  metric(name: string, metric: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

interface Slot extends Instance {
  child: ChildProcess | null;
  exited: Promise<number | null>;
  log: string;
}

const START_TIMEOUT_MS = 30_000;

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "cluster-"));
  const tg = await startTelegramStandIn();
  const fcm = await startFcmStandIn({ projectId: "cluster-test" });
  const account: FakeServiceAccount = writeFakeServiceAccount({ projectId: "cluster-test" });
  const names = options.names ?? ["a", "b"];
  const slots: Slot[] = [];
  for (const name of names) {
    const port = await freePort();
    const slot: Slot = {
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      child: null,
      exited: Promise.resolve(null),
      log: "",
      running: () => slot.child !== null && slot.child.exitCode === null && slot.child.signalCode === null,
      output: () => slot.log,
    };
    slots.push(slot);
  }
  const shared: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    TZ: "UTC",
    NEXT_TELEMETRY_DISABLED: "1",
    SERVER_HOST: "127.0.0.1",
    DATABASE_URL: options.databaseUrl ?? `file:${path.join(dir, "cluster.db")}`,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    UPLOAD_DIR: path.join(dir, "uploads"),
    // nginx is the last hop (deploy/nginx.conf sets X-Forwarded-For).
    TRUST_PROXY: "true",
    TELEGRAM_MODE: "webhook",
    TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    FCM_SERVICE_ACCOUNT_PATH: account.path,
    FCM_STAND_IN_PORT: String(fcm.port),
    FCM_STAND_IN_TOKEN: fcm.accessToken,
    LOG_LEVEL: "warn",
    ...options.env,
  };

  const find = (name: string): Slot => {
    const slot = slots.find((s) => s.name === name);
    if (!slot) throw new Error(`no instance ${name}`);
    return slot;
  };

  const start = (name: string): Promise<void> => {
    const slot = find(name);
    if (slot.running()) throw new Error(`instance ${name} is already running`);
    // Each instance's Telegram calls carry its name (RecordedCall.caller).
    const env = { NODE_ENV: "production" as const, ...shared, ...tg.envFor(options.group, name), INSTANCE_ID: name, SERVER_PORT: String(slot.port) };
    const child: ChildProcess = spawn(process.execPath, [ENTRY], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    slot.child = child;
    slot.log = "";
    slot.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance ${name} did not listen within ${START_TIMEOUT_MS} ms:\n${slot.log}`)), START_TIMEOUT_MS);
      child.stderr?.on("data", (chunk: Buffer) => (slot.log += chunk.toString()));
      child.stdout?.on("data", (chunk: Buffer) => {
        slot.log += chunk.toString();
        if (/^READY \d+$/m.test(slot.log)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void slot.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`instance ${name} exited with ${code} before listening:\n${slot.log}`));
      });
    });
  };

  const signal = async (name: string, sig: NodeJS.Signals): Promise<number | null> => {
    const slot = find(name);
    if (slot.running()) slot.child?.kill(sig);
    return slot.exited;
  };

  let nginx: Nginx | null = null;
  const cluster: Cluster = {
    tg,
    fcm,
    lbUrl: "",
    dir,
    instances: slots,
    instance: find,
    start,
    stop: (name) => signal(name, "SIGTERM"),
    kill: async (name) => {
      await signal(name, "SIGKILL");
    },
    async restart(name) {
      await signal(name, "SIGTERM");
      await start(name);
    },
    async health(name) {
      const res = await requestJson<Health>(`${find(name).url}/health`);
      if (res.status !== 200) throw new Error(`/health of ${name} answered ${res.status}`);
      return res.body;
    },
    async healths() {
      return Promise.all(slots.filter((s) => s.running()).map((s) => cluster.health(s.name)));
    },
    async metric(name, metric, labels = {}) {
      const text = await (await fetch(`${find(name).url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split("\n")) {
        const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
        if (!match || match[1] !== metric) continue;
        const have = match[2] ?? "";
        if (Object.entries(labels).every(([key, value]) => have.includes(`${key}="${value}"`))) sum += Number(match[3]);
      }
      return sum;
    },
    async close() {
      await Promise.all(slots.map((s) => signal(s.name, "SIGKILL")));
      await nginx?.stop();
      await tg.close();
      await fcm.close();
      account.cleanup();
      if (!process.env.CLUSTER_KEEP_DATA) rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    // One after the other: the first takes the sender lease, and two Next.js
    // start-ups at once on two cores only make both slower.
    for (const slot of slots) await start(slot.name);
    nginx = await startNginx(dir, slots.map((s) => `127.0.0.1:${s.port}`), await freePort());
    cluster.lbUrl = nginx.url;
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}
