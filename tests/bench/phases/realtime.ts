// The live path: an agent's reply posted to the webhook until the
// `new_message` event reaches a connected socket.io-client (WebSocket only,
// and with the client's default transports as the apps use it); the server's
// memory with 10k idle sockets (each joined to its own user's room, as the
// app does); and one message fanned out to 1k sockets in one room. The
// clients live in this (the load) process, so "time to the last delivery"
// also includes this process reading 1k frames: an upper bound.
import { performance } from "node:perf_hooks";
import type { Socket } from "socket.io-client";
import { ms, type BenchContext, type Row } from "../lib/context.js";
import { KeepAliveConnection } from "../lib/keep-alive-client.js";
import type { ServerProcess } from "../lib/processes.js";
import { connectSocket, measureReplyLatency, postJson, type Transports, type WireMessage } from "../lib/reply-latency.js";
import { summarize } from "../lib/stats.js";

async function replyLatency(ctx: BenchContext, app: ServerProcess, connection: KeepAliveConnection, transports: Transports): Promise<Row> {
  const summary = await measureReplyLatency({
    socketUrl: app.url,
    send: connection,
    webhook: connection,
    webhookSecret: ctx.webhookSecret,
    userId: `reply-user-${transports}`,
    transports,
    warmup: 20,
    replies: ctx.settings.replies,
    makeReplies: (replyTo, count) => ctx.standIn.replies(Number(ctx.groupChatId), replyTo, count, "Ответ агента"),
  });
  const { transport, missed } = summary;
  const clients = transports === "default" ? `client defaults, ended on ${transport}` : "WebSocket only";
  ctx.progress(`  reply → new_message (${clients}): p50 ${ms(summary.p50)} ms, p99 ${ms(summary.p99)} ms over ${summary.replies} replies${missed ? `, ${missed} never arrived` : ""}`);
  return {
    id: transports === "default" ? "reply_to_socket_default" : "reply_to_socket",
    group: "Realtime",
    metric: `agent reply → new_message, ${clients} (${summary.replies} replies, sequential)`,
    target: "p99 ≤10 ms",
    measured: `p50 ${ms(summary.p50)} · p99 ${ms(summary.p99)} · max ${ms(summary.max)} ms${missed ? ` · ${missed} lost` : ""}`,
    pass: summary.p99 <= 10 && missed === 0,
    data: { ...summary },
  };
}

async function openMany(ctx: BenchContext, app: ServerProcess, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const batch = 250;
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    sockets.push(...(await Promise.all(Array.from({ length: n }, (_, k) => connectSocket(app.url, `idle-${i + k}`)))));
    if ((i + n) % 2_000 === 0 || i + n === count) ctx.progress(`  ${i + n} sockets connected`);
  }
  return sockets;
}

async function fanOut(ctx: BenchContext, app: ServerProcess, connection: KeepAliveConnection, sockets: Socket[]): Promise<Row> {
  const room = "fanout-user";
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once("joined", () => resolve());
          socket.emit("join_chat", { user_id: room });
        }),
    ),
  );
  const lasts: number[] = [];
  const firsts: number[] = [];
  let incomplete = 0;
  for (let round = -1; round < ctx.settings.fanoutRounds; round++) {
    const text = `Fan-out ${round}`;
    let received = 0;
    let first = NaN;
    const done = new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(NaN), 10_000);
      for (const socket of sockets) {
        const onMessage = (m: WireMessage) => {
          if (m.message !== text) return;
          socket.off("new_message", onMessage);
          const now = performance.now();
          if (received++ === 0) first = now;
          if (received === sockets.length) {
            clearTimeout(timer);
            resolve(now);
          }
        };
        socket.on("new_message", onMessage);
      }
    });
    const t0 = performance.now();
    const answered = postJson(connection, "/send_message", { user_id: room, message: text });
    const last = await done;
    await answered;
    for (const socket of sockets) socket.removeAllListeners("new_message");
    if (round < 0) continue; // the first round warms the path up
    if (Number.isNaN(last)) incomplete++;
    else {
      lasts.push(last - t0);
      firsts.push(first - t0);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const last = summarize(lasts);
  const first = summarize(firsts);
  ctx.progress(`  fan-out to ${sockets.length}: last delivery p50 ${ms(last.p50)} ms, worst ${ms(last.max)} ms`);
  return {
    id: "fanout",
    group: "Realtime",
    metric: `fan-out to ${sockets.length} sockets in a room (median of ${lasts.length} rounds)`,
    target: "≤50 ms",
    measured: `last delivery p50 ${ms(last.p50)} · worst ${ms(last.max)} ms (first ${ms(first.p50)} ms)${incomplete ? ` · ${incomplete} incomplete` : ""}`,
    pass: last.p50 <= 50 && incomplete === 0,
    data: { last, first, rounds: lasts.length, incomplete, sockets: sockets.length },
  };
}

export async function realtimePhase(ctx: BenchContext, app: ServerProcess): Promise<Row[]> {
  const connection = new KeepAliveConnection("127.0.0.1", app.port);
  const rows: Row[] = [];
  try {
    ctx.progress("realtime: agent reply → socket latency");
    rows.push(await replyLatency(ctx, app, connection, "websocket"));
    rows.push(await replyLatency(ctx, app, connection, "default"));

    ctx.progress(`realtime: ${ctx.settings.idleSockets.toLocaleString("en-US")} idle sockets`);
    const before = app.rss();
    const started = performance.now();
    const sockets = await openMany(ctx, app, ctx.settings.idleSockets);
    const connectSeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 3_000));
    const after = app.rss();
    const mb = (b: number) => b / (1024 * 1024);
    ctx.progress(`  server RSS ${mb(before).toFixed(0)} MB before, ${mb(after).toFixed(0)} MB with ${sockets.length} sockets`);
    rows.push({
      id: "idle_sockets_rss",
      group: "Realtime",
      metric: `${sockets.length.toLocaleString("en-US")} idle sockets: server RSS`,
      target: "≤400 MB",
      measured: `${mb(after).toFixed(0)} MB (${mb(before).toFixed(0)} MB before; ${((after - before) / sockets.length / 1024).toFixed(1)} KB/socket; connected in ${connectSeconds.toFixed(1)} s)`,
      pass: mb(after) <= 400,
      data: { rssBefore: before, rssAfter: after, sockets: sockets.length, connectSeconds },
    });

    ctx.progress(`realtime: fan-out to ${ctx.settings.fanoutSockets} sockets in one room`);
    rows.push(await fanOut(ctx, app, connection, sockets.slice(0, ctx.settings.fanoutSockets)));
    for (const socket of sockets) socket.close();
    await ctx.standIn.forget();
  } finally {
    connection.destroy();
  }
  return rows;
}
