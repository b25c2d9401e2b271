// GET /message_history/<user> on a database of 100k messages over 1k users,
// then the same file grown to 1M. The rows are written straight into the
// service's database file (migrated with the service's own migrations)
// while nothing runs, then the service and the floor both open that file.
// The service's first read per user and day also writes the day's greeting;
// the warm-up visits every user, so the measured requests are reads.
import path from "node:path";
import { ms, rate, type BenchContext, type Row } from "../lib/context.js";
import { fillHistory, HISTORY_USER_PREFIX } from "../lib/fill-db.js";
import { compareLoad, LoadSession, type LoadResult, type LoadTarget } from "../lib/load.js";
import { startFloor, type ServerProcess } from "../lib/processes.js";

function historyTarget(server: ServerProcess, users: number): LoadTarget {
  // A stride co-prime with the user count: consecutive requests hit users far apart.
  return {
    port: server.port,
    request: (i) => ({ method: "GET", path: `/message_history/${HISTORY_USER_PREFIX}${(i * 7919) % users}` }),
    accept: (status, body) => status === 200 && body.includes('"success":true'),
  };
}

function report(ctx: BenchContext, label: string, result: LoadResult): void {
  ctx.progress(`  ${label} c=${result.concurrency}: ${rate(result.rps)} req/s, p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms${result.errors ? `, ${result.errors} errors (${result.firstError})` : ""}`);
}

/** Every user once, so the day's greetings are written before anything is measured. */
async function greetEveryone(server: ServerProcess, users: number): Promise<void> {
  const session = new LoadSession(
    { port: server.port, request: (i) => ({ method: "GET", path: `/message_history/${HISTORY_USER_PREFIX}${i % users}` }) },
    1,
  );
  try {
    await session.run(60_000, false, users);
  } finally {
    session.close();
  }
}

const describe = (r: LoadResult) => `${rate(r.rps)} req/s · p50 ${ms(r.p50)} · p99 ${ms(r.p99)} ms${r.errors ? ` · ${r.errors} errors` : ""}`;

export async function historyPhase(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = ctx.folder("history");
  const dbFile = path.join(dir, "app.db");
  let filled = 0;
  for (const size of ctx.settings.historySizes) {
    ctx.progress(`message_history: filling the database to ${size.toLocaleString("en-US")} messages over ${ctx.settings.historyUsers} users`);
    const took = fillHistory(dbFile, size - filled, ctx.settings.historyUsers);
    filled = size;
    ctx.progress(`  filled in ${(took / 1000).toFixed(1)} s`);
    const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1000}k`;
    const app = await ctx.startApp(`history-${label}`, { dir });
    const floor = await startFloor(dbFile, ctx.standIn, ctx.groupChatId, path.join(ctx.logDir, `floor-history-${label}.log`));
    try {
      await greetEveryone(app, ctx.settings.historyUsers);
      for (const c of [1, 16]) {
        const { warmupMs, cellMs, rounds } = ctx.settings;
        const users = ctx.settings.historyUsers;
        const [base, service] = (await compareLoad([historyTarget(floor, users), historyTarget(app, users)], { concurrency: c, warmupMs, durationMs: cellMs, rounds })) as [LoadResult, LoadResult];
        report(ctx, `floor   ${label}`, base);
        report(ctx, `service ${label}`, service);
        const ratio = service.rps / base.rps;
        // The targets are set for 100k and 1M messages; a quick run's smaller table has none.
        let target = "—";
        let pass: boolean | undefined;
        if (size === 100_000 && c === 1) [target, pass] = ["p99 ≤3 ms", service.p99 <= 3];
        if (size === 100_000 && c === 16) [target, pass] = ["≥0.5× floor", ratio >= 0.5];
        if (size === 1_000_000 && c === 1) [target, pass] = ["p99 ≤5 ms", service.p99 <= 5];
        rows.push({
          id: `message_history.${label}.c${c}`,
          group: "GET /message_history",
          metric: `${label} messages, c=${c}`,
          target,
          measured: describe(service),
          floor: describe(base),
          ratio,
          ...(pass === undefined ? {} : { pass: pass && service.errors === 0 }),
          data: { service, floor: base, messages: size, users: ctx.settings.historyUsers },
        });
      }
    } finally {
      await Promise.all([app.stop(), floor.stop()]);
    }
  }
  return rows;
}
