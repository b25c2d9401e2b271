// A backlog of queued messages drained into a group whose stand-in enforces
// Telegram's per-group limit (20 messages in any 60 s, answered 429 with
// retry_after past it). The budget is used in bursts, so the rate is taken
// over whole windows: N = 20·k messages divided by the time from the first
// accepted send to the (N+1)-th, i.e. how long the service took to spend k
// windows' budget (k = 2: about two minutes). 429s the service provoked are
// counted by the stand-in.
import { ms, type BenchContext, type Row } from "../lib/context.js";
import { encodeRequest, KeepAliveConnection } from "../lib/keep-alive-client.js";

const LIMIT = 20;
const WINDOW_MS = 60_000;

export async function drainPhase(ctx: BenchContext): Promise<Row[]> {
  const { backlog, drainWindows } = ctx.settings;
  ctx.progress(`drain: ${backlog} messages into a group limited to ${LIMIT} per ${WINDOW_MS / 1000} s`);
  await ctx.standIn.forget();
  await ctx.standIn.setGroupLimit({ limit: LIMIT, windowMs: WINDOW_MS });
  const chatId = Number(ctx.groupChatId);
  const before = await ctx.standIn.stats(chatId);
  const app = await ctx.startApp("drain");
  try {
    const workers = 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        const connection = new KeepAliveConnection("127.0.0.1", app.port);
        try {
          while (next < backlog) {
            const i = next++;
            const body = JSON.stringify({ user_id: `drain-${i % 50}`, message: `Backlog message ${i}` });
            const answer = await connection.request(encodeRequest("127.0.0.1", app.port, { method: "POST", path: "/send_message", body }));
            if (answer.status !== 200) throw new Error(`/send_message answered ${answer.status}`);
          }
        } finally {
          connection.destroy();
        }
      }),
    );
    const wanted = LIMIT * drainWindows + 1;
    const observeMs = drainWindows > 0 ? WINDOW_MS * drainWindows + 10_000 : 10_000;
    const deadline = Date.now() + observeMs;
    ctx.progress(`  backlog queued; observing for up to ${Math.round(observeMs / 1000)} s`);
    let stats = await ctx.standIn.stats(chatId);
    let lastReport = Date.now();
    while (Date.now() < deadline && (drainWindows === 0 || stats.sendOk.length < wanted)) {
      await new Promise((r) => setTimeout(r, 500));
      stats = await ctx.standIn.stats(chatId);
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        ctx.progress(`  ${stats.sendOk.length} sent so far, ${stats.tooManyRequests - before.tooManyRequests} × 429`);
      }
    }
    const sends = stats.sendOk;
    const refused = stats.tooManyRequests - before.tooManyRequests;
    let perMinute = NaN;
    if (drainWindows > 0 && sends.length >= wanted) {
      const span = (sends[wanted - 1] as number) - (sends[0] as number);
      perMinute = ((wanted - 1) / span) * 60_000;
    }
    const budgetShare = perMinute / LIMIT;
    ctx.progress(`  drained ${sends.length} in the window: ${Number.isFinite(perMinute) ? `${perMinute.toFixed(2)}/min = ${(budgetShare * 100).toFixed(1)} % of the budget` : "rate not measured (quick run)"}, ${refused} × 429`);
    const firstSpan = sends.length > 1 ? (sends[Math.min(sends.length, LIMIT) - 1] as number) - (sends[0] as number) : NaN;
    return [
      {
        id: "drain",
        group: "Telegram pacing",
        metric: `drain of ${backlog} queued at ${LIMIT}/min per group`,
        target: "≥95 % of budget, 0 × 429",
        measured: Number.isFinite(perMinute)
          ? `${perMinute.toFixed(2)} msg/min = ${(budgetShare * 100).toFixed(1)} % · ${refused} × 429 (${sends.length} sent; first ${LIMIT} in ${ms(firstSpan)} ms)`
          : `${sends.length} sent in ${Math.round(observeMs / 1000)} s · ${refused} × 429 (rate needs a full run)`,
        ...(Number.isFinite(perMinute) ? { pass: budgetShare >= 0.95 && refused === 0 } : {}),
        data: { perMinute, budgetShare, tooManyRequests: refused, sent: sends.length, windows: drainWindows, sendTimes: sends },
      },
    ];
  } finally {
    await ctx.standIn.setGroupLimit(null);
    await app.stop();
  }
}
