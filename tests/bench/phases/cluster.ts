// The cluster of SPEC §8 on this machine: two instances of the production
// build on PostgreSQL + Redis behind the shipped deploy/nginx.conf
// (tests/cluster/cluster.ts), next to one solo SQLite instance started as
// every other phase starts the service, measured in the same run:
//
// - POST /send_message at c=16 through nginx (round robin over both
//   instances), against the solo instance, in alternating rounds; also
//   instance a on its own port (no nginx) to tell nginx's share from the
//   engines';
// - agent reply → `new_message` with the socket on instance a and the
//   webhook POSTed to instance b, so the event crosses Redis (the Socket.IO
//   streams adapter), against the same on the solo instance; and the
//   cluster with both on instance a, to tell Redis's share from the rest.
//
// PostgreSQL and Redis come from TEST_POSTGRES_URL/TEST_REDIS_URL, or are
// started here (lib/engines.ts). Rate limits are raised through the
// RATE_LIMIT_* variables, so the Redis limiters still run on every request.
import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import path from "node:path";
import type { Update } from "grammy/types";
import { RATE_LIMIT_VARIABLES } from "../../../server/config/rate-limits.js";
import { startCluster, WEBHOOK_SECRET, type Cluster } from "../../cluster/cluster.js";
import { findNginx } from "../../cluster/nginx.js";
import { createTestDatabase } from "../../engines/engines.js";
import { ms, rate, type BenchContext, type Row } from "../lib/context.js";
import { benchEngines } from "../lib/engines.js";
import { KeepAliveConnection } from "../lib/keep-alive-client.js";
import { compareLoad, type LoadResult } from "../lib/load.js";
import { describeActivity, sampleActivity, type ActivitySummary } from "../lib/pg-activity.js";
import type { ServerProcess } from "../lib/processes.js";
import { measureReplyLatency, type ReplyLatencyResult, type Transports } from "../lib/reply-latency.js";
import { sendMessageTarget } from "./send-message.js";

const CONCURRENCY = 16;
const WARMUP_REPLIES = 20;
/** SPEC §8's budget for a reply that crosses instances (one instance's is 10 ms, realtime phase) */
const CROSS_INSTANCE_P99_MS = 20;

// Every inbound limit as high as its variable allows (9 digits): nothing is
// refused, but each request still pays for its Redis counts.
const RAISED_LIMITS: Record<string, string> = Object.fromEntries(
  RATE_LIMIT_VARIABLES.map((v) => [v.name, v.scope === "perUser" && v.part === "burst" ? "999999999/600" : "999999999/60"]),
);

const portOf = (url: string) => Number(new URL(url).port);
const describeLoad = (r: LoadResult) => `${rate(r.rps)} req/s · p50 ${ms(r.p50)} · p99 ${ms(r.p99)} ms${r.errors ? ` · ${r.errors} errors` : ""}`;
const describeReplies = (r: ReplyLatencyResult) =>
  `p50 ${ms(r.p50)} · p99 ${ms(r.p99)} · max ${ms(r.max)} ms${r.missed ? ` · ${r.missed} lost` : ""} (webhook answered p50 ${ms(r.answered.p50)} · p99 ${ms(r.answered.p99)})`;

interface ReplyPath {
  socketUrl: string;
  send: KeepAliveConnection;
  webhook: KeepAliveConnection;
  webhookSecret: string;
  makeReplies(replyTo: number, count: number, label: string): Promise<Update[]>;
}

async function replies(ctx: BenchContext, label: string, route: ReplyPath, transports: Transports): Promise<ReplyLatencyResult> {
  const result = await measureReplyLatency({
    socketUrl: route.socketUrl,
    send: route.send,
    webhook: route.webhook,
    webhookSecret: route.webhookSecret,
    userId: `cluster-reply-${label.replace(/[^a-z]+/g, "-")}-${transports}`,
    transports,
    warmup: WARMUP_REPLIES,
    replies: ctx.settings.replies,
    makeReplies: (replyTo, count) => route.makeReplies(replyTo, count, `${label} ${transports}`),
  });
  ctx.progress(`  ${label.padEnd(22)} ${transports.padEnd(9)} (ended on ${result.transport}): ${describeReplies(result)} over ${result.replies} replies`);
  return result;
}

/** What the instances and nginx wrote, into the run's log folder (the cluster's own folder goes with it). */
function keepLogs(ctx: BenchContext, cluster: Cluster): void {
  for (const instance of cluster.instances) writeFileSync(path.join(ctx.logDir, `cluster-${instance.name}.log`), instance.output());
  for (const file of ["error.log", "access.log"]) {
    const from = path.join(cluster.dir, file);
    if (existsSync(from)) copyFileSync(from, path.join(ctx.logDir, `cluster-nginx-${file}`));
  }
}

export async function clusterPhase(ctx: BenchContext): Promise<Row[]> {
  if (!findNginx()) throw new Error("nginx is not installed (Debian: apt-get install nginx)");
  const phaseStarted = performance.now();
  const group = Number(ctx.groupChatId);
  ctx.progress("cluster: PostgreSQL and Redis");
  const engines = await benchEngines(path.join(ctx.logDir, "cluster-engines.log"));
  let cluster: Cluster | null = null;
  let solo: ServerProcess | null = null;
  const connections: KeepAliveConnection[] = [];
  const connect = (url: string) => {
    const connection = new KeepAliveConnection("127.0.0.1", portOf(url));
    connections.push(connection);
    return connection;
  };
  try {
    const database = await createTestDatabase(engines.postgresUrl);
    try {
      ctx.progress(`cluster: two instances on PostgreSQL + Redis (${engines.source === "started" ? "started by tests/engines/start.sh" : "TEST_POSTGRES_URL, TEST_REDIS_URL"}) behind nginx, and one solo SQLite instance`);
      // The solo instance's settings where they change the work per request:
      // a log line per request (LOG_LEVEL=info, as processes.ts), and push off
      // (app-entry.mjs has no FCM; with push on, every reply would also enqueue a push job).
      const env = { ...RAISED_LIMITS, LOG_LEVEL: "info", FCM_SERVICE_ACCOUNT_PATH: "" };
      cluster = await startCluster({ group, databaseUrl: database.url, redisUrl: engines.redisUrl, env });
      solo = await ctx.startApp("cluster-solo");
      const setupSeconds = (performance.now() - phaseStarted) / 1000;
      const leader = (await cluster.healths()).find((h) => h.leader)?.instance ?? "none";
      const [a, b] = [cluster.instance("a"), cluster.instance("b")];
      ctx.progress(`  up in ${setupSeconds.toFixed(1)} s; the sender (lease holder) is instance ${leader}`);

      // Replies first: the load below fills the group's pacing budget and the
      // queue, and the first message of each series must be posted at once.
      const tg = cluster.tg;
      const clusterReplies = (replyTo: number, count: number, label: string) =>
        Promise.resolve(Array.from({ length: count }, (_, i) => tg.updates.groupText({ chatId: group, replyTo, text: `Ответ агента ${label} ${i}` })));
      const onA = connect(a.url);
      const onB = connect(b.url);
      const onSolo = connect(solo.url);
      const cross: ReplyPath = { socketUrl: a.url, send: onA, webhook: onB, webhookSecret: WEBHOOK_SECRET, makeReplies: clusterReplies };
      const same: ReplyPath = { ...cross, webhook: onA };
      const soloPath: ReplyPath = {
        socketUrl: solo.url,
        send: onSolo,
        webhook: onSolo,
        webhookSecret: ctx.webhookSecret,
        makeReplies: (replyTo, count, label) => ctx.standIn.replies(group, replyTo, count, `Ответ агента ${label}`),
      };
      ctx.progress(`cluster: agent reply → new_message (${ctx.settings.replies} replies after ${WARMUP_REPLIES} warm-up, sequential)`);
      // Cluster and solo in turn, so a burst of noise from the shared machine lands on both.
      const measured: { transports: Transports; cross: ReplyLatencyResult; solo: ReplyLatencyResult }[] = [];
      for (const transports of ["websocket", "default"] as const) {
        const crossResult = await replies(ctx, "cluster, b → socket on a", cross, transports);
        measured.push({ transports, cross: crossResult, solo: await replies(ctx, "solo", soloPath, transports) });
      }
      const sameInstance = await replies(ctx, "cluster, a → socket on a", same, "websocket");

      ctx.progress(`cluster: POST /send_message at c=${CONCURRENCY}: solo, cluster through nginx, instance a alone`);
      const { warmupMs, cellMs, rounds } = ctx.settings;
      let pgActivity: ActivitySummary;
      // PostgreSQL's sessions during the cells: whether the cluster's requests queue on a lock or on CPU.
      const activity = await sampleActivity(database.url);
      let loads: LoadResult[];
      try {
        loads = await compareLoad([sendMessageTarget(solo.port), sendMessageTarget(portOf(cluster.lbUrl)), sendMessageTarget(a.port)], {
          concurrency: CONCURRENCY,
          warmupMs,
          durationMs: cellMs,
          rounds,
        });
      } finally {
        pgActivity = await activity.stop();
      }
      const [soloLoad, viaNginx, instanceA] = loads as [LoadResult, LoadResult, LoadResult];
      for (const [label, result] of [["solo SQLite", soloLoad], ["cluster through nginx", viaNginx], ["instance a, no nginx", instanceA]] as const) {
        ctx.progress(`  ${label.padEnd(22)} ${describeLoad(result)}${result.firstError ? ` (first error: ${result.firstError})` : ""}`);
      }
      ctx.progress(`  PostgreSQL sessions per busy sample (${pgActivity.busySamples} of ${pgActivity.samples} samples): ${describeActivity(pgActivity)}`);
      await ctx.standIn.forget();

      const phaseSeconds = (performance.now() - phaseStarted) / 1000;
      ctx.progress(`cluster: done in ${phaseSeconds.toFixed(0)} s (${setupSeconds.toFixed(0)} s of it starting the engines and instances)`);
      const common = { leader, engines: engines.source, phaseSeconds, setupSeconds };
      const rows: Row[] = [];
      for (const { transports, cross: result, solo: soloResult } of measured) {
        const clients = transports === "default" ? `client defaults, ended on ${result.transport}` : "WebSocket only";
        rows.push({
          id: transports === "default" ? "cluster.reply_cross_instance_default" : "cluster.reply_cross_instance",
          group: "Cluster (2 × PG + Redis)",
          metric: `agent reply → new_message, webhook on b, socket on a, ${clients} (${result.replies} replies)`,
          target: `p99 ≤${CROSS_INSTANCE_P99_MS} ms`,
          measured: describeReplies(result),
          floor: `solo SQLite: ${describeReplies(soloResult)}`,
          pass: result.p99 <= CROSS_INSTANCE_P99_MS && result.missed === 0 && result.replies > 0,
          data: { cluster: result, solo: soloResult, ...common },
        });
      }
      const soloWebsocket = (measured[0] as (typeof measured)[number]).solo;
      rows.push({
        id: "cluster.reply_same_instance",
        group: "Cluster (2 × PG + Redis)",
        metric: `agent reply → new_message, webhook and socket on a, WebSocket only (${sameInstance.replies} replies)`,
        target: "—",
        measured: describeReplies(sameInstance),
        floor: `solo SQLite: ${describeReplies(soloWebsocket)}`,
        data: { cluster: sameInstance, solo: soloWebsocket, ...common },
      });
      rows.push({
        id: "cluster.send_message.c16",
        group: "Cluster (2 × PG + Redis)",
        metric: `POST /send_message c=${CONCURRENCY} through nginx (ratio: ÷ solo)`,
        target: "—",
        measured: describeLoad(viaNginx),
        floor: `solo SQLite: ${describeLoad(soloLoad)}`,
        ratio: viaNginx.rps / soloLoad.rps,
        data: { cluster: viaNginx, solo: soloLoad, pgActivity, ...common },
      });
      rows.push({
        id: "cluster.send_message.c16.instance_a",
        group: "Cluster (2 × PG + Redis)",
        metric: `POST /send_message c=${CONCURRENCY} to instance a, no nginx (ratio: ÷ solo)`,
        target: "—",
        measured: describeLoad(instanceA),
        floor: `solo SQLite: ${describeLoad(soloLoad)}`,
        ratio: instanceA.rps / soloLoad.rps,
        data: { cluster: instanceA, solo: soloLoad, pgActivity, ...common },
      });
      return rows;
    } finally {
      for (const connection of connections) connection.destroy();
      if (cluster) {
        keepLogs(ctx, cluster);
        await cluster.close();
      }
      await solo?.stop();
      await database.drop();
    }
  } finally {
    await engines.stop();
  }
}
