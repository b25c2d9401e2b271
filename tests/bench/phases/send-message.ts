// POST /send_message (JSON) at c = 1, 16, 64 with the stand-in answering at
// once and after 100 ms. The service answers "sent" only while its pacer
// lets a post go out at once (20 a minute into the group); under load almost
// every message is committed and answered "queued", so these cells measure
// durable acceptance. The floor runs next to it, cell by cell, in its
// store-only variant (the comparison the target uses) and its full-send
// variant (what answering only after Telegram costs).
import path from "node:path";
import { ms, rate, type BenchContext, type Row } from "../lib/context.js";
import { compareLoad, type LoadResult, type LoadTarget } from "../lib/load.js";
import { startFloor, type ServerProcess } from "../lib/processes.js";

const USERS = 5_000;

function body(i: number): string {
  return JSON.stringify({ user_id: `send-${i % USERS}`, user_name: "Bench User", message: `Bench message ${i}: не проходит оплата картой, код ошибки 51` });
}

const accept = (status: number, answer: Buffer) => status === 200 && answer.includes('"success":true');

/** /send_message (or the floor's `pathName` variant) on `port`, each request from one of 5k users; an error unless answered success. */
export function sendMessageTarget(port: number, pathName = "/send_message"): LoadTarget {
  return { port, request: (i) => ({ method: "POST", path: pathName, body: body(i) }), accept };
}

const target = (server: ServerProcess, pathName: string) => sendMessageTarget(server.port, pathName);

function report(ctx: BenchContext, label: string, result: LoadResult): void {
  ctx.progress(`  ${label} c=${result.concurrency}: ${rate(result.rps)} req/s, p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms${result.errors ? `, ${result.errors} errors (${result.firstError})` : ""}`);
}

const describe = (r: LoadResult) => `${rate(r.rps)} req/s · p50 ${ms(r.p50)} · p99 ${ms(r.p99)} ms${r.errors ? ` · ${r.errors} errors` : ""}`;

export async function sendMessagePhase(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  ctx.progress("send_message: starting the service and the floor");
  const app = await ctx.startApp("send");
  const floor = await startFloor(path.join(ctx.folder("floor-send"), "floor.db"), ctx.standIn, ctx.groupChatId, path.join(ctx.logDir, "floor-send.log"));
  try {
    for (const delay of [0, 100]) {
      await ctx.standIn.setDelay(delay);
      for (const c of [1, 16, 64]) {
        const { warmupMs, cellMs, rounds } = ctx.settings;
        const [store, service, full] = (await compareLoad([target(floor, "/send_message"), target(app, "/send_message"), target(floor, "/send_message/full")], {
          concurrency: c,
          warmupMs,
          durationMs: cellMs,
          rounds,
        })) as [LoadResult, LoadResult, LoadResult];
        report(ctx, `floor store-only (stand-in ${delay} ms)`, store);
        report(ctx, `service          (stand-in ${delay} ms)`, service);
        report(ctx, `floor full-send  (stand-in ${delay} ms)`, full);
        await ctx.standIn.forget();
        const ratio = service.rps / store.rps;
        const targeted = c === 16;
        rows.push({
          id: `send_message.c${c}.delay${delay}`,
          group: "POST /send_message",
          metric: `c=${c}, stand-in ${delay} ms`,
          target: targeted ? "≥0.5× floor, p99 ≤25 ms" : "—",
          measured: describe(service),
          floor: `store-only ${describe(store)}; full-send ${describe(full)}`,
          ratio,
          ...(targeted ? { pass: ratio >= 0.5 && service.p99 <= 25 && service.errors === 0 } : {}),
          data: { service, floorStoreOnly: store, floorFullSend: full, standInDelayMs: delay },
        });
      }
    }
  } finally {
    await ctx.standIn.setDelay(0);
    await Promise.all([app.stop(), floor.stop()]);
  }
  return rows;
}
