// The live path: an agent's reply posted to the webhook until the
// `new_message` event reaches a connected socket.io-client (WebSocket only,
// and with the client's default transports as the apps use it); the server's
// memory with 10k idle sockets (each joined to its own user's room, as the
// app does); and one message fanned out to 1k sockets in one room. The
// clients live in this (the load) process, so "time to the last delivery"
// also includes this process reading 1k frames: an upper bound.
import { performance } from "node:perf_hooks";
import { io, type Socket } from "socket.io-client";
import { ms, type BenchContext, type Row } from "../lib/context.js";
import { encodeRequest, KeepAliveConnection } from "../lib/keep-alive-client.js";
import type { ServerProcess } from "../lib/processes.js";
import { summarize } from "../lib/stats.js";

interface WireMessage {
  id: number;
  user_id: string;
  message: string;
}

/**
 * "default": socket.io-client as the apps leave it (long-polling first, then
 * the upgrade to WebSocket); "websocket": WebSocket from the start.
 */
type Transports = "default" | "websocket";

function connectSocket(url: string, userId: string, transports: Transports = "websocket"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const options = { forceNew: true, reconnection: false, timeout: 30_000 };
    const socket = transports === "default" ? io(url, options) : io(url, { ...options, transports: ["websocket"] });
    const fail = (error: Error) => {
      socket.close();
      reject(error);
    };
    socket.once("connect_error", fail);
    socket.once("joined", () => {
      socket.off("connect_error", fail);
      resolve(socket);
    });
    socket.once("connect", () => socket.emit("join_chat", { user_id: userId }));
  });
}

async function post(connection: KeepAliveConnection, server: ServerProcess, path: string, body: unknown, headers: Record<string, string> = {}) {
  const answer = await connection.request(encodeRequest("127.0.0.1", server.port, { method: "POST", path, body: JSON.stringify(body), headers }));
  if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}: ${answer.body.toString("utf8").slice(0, 300)}`);
  return JSON.parse(answer.body.toString("utf8")) as Record<string, unknown>;
}

async function replyLatency(ctx: BenchContext, app: ServerProcess, connection: KeepAliveConnection, transports: Transports): Promise<Row> {
  const userId = `reply-user-${transports}`;
  const socket = await connectSocket(app.url, userId, transports);
  try {
    const sent = await post(connection, app, "/send_message", { user_id: userId, user_name: "Reply Bench", message: "Помогите, пожалуйста" });
    const telegramId = sent.message_id;
    if (typeof telegramId !== "number") throw new Error(`the first message was not posted to the group at once (${JSON.stringify(sent)})`);
    const warmup = 20;
    const updates = await ctx.standIn.replies(Number(ctx.groupChatId), telegramId, warmup + ctx.settings.replies, "Ответ агента");
    const latencies: number[] = [];
    let missed = 0;
    for (const [i, update] of updates.entries()) {
      const text = (update as { message?: { text?: string } }).message?.text ?? "";
      const arrived = new Promise<number>((resolve) => {
        const onMessage = (m: WireMessage) => {
          if (m.message !== text) return;
          socket.off("new_message", onMessage);
          resolve(performance.now());
        };
        socket.on("new_message", onMessage);
        setTimeout(() => {
          socket.off("new_message", onMessage);
          resolve(NaN);
        }, 5_000);
      });
      const t0 = performance.now();
      await post(connection, app, "/api/telegram/webhook", update, { "X-Telegram-Bot-Api-Secret-Token": ctx.webhookSecret });
      const t1 = await arrived;
      if (Number.isNaN(t1)) missed++;
      else if (i >= warmup) latencies.push(t1 - t0);
    }
    const summary = summarize(latencies);
    // With the defaults the client should have left polling during the warm-up.
    const transport = socket.io.engine.transport.name;
    const clients = transports === "default" ? `client defaults, ended on ${transport}` : "WebSocket only";
    ctx.progress(`  reply → new_message (${clients}): p50 ${ms(summary.p50)} ms, p99 ${ms(summary.p99)} ms over ${latencies.length} replies${missed ? `, ${missed} never arrived` : ""}`);
    return {
      id: transports === "default" ? "reply_to_socket_default" : "reply_to_socket",
      group: "Realtime",
      metric: `agent reply → new_message, ${clients} (${latencies.length} replies, sequential)`,
      target: "p99 ≤10 ms",
      measured: `p50 ${ms(summary.p50)} · p99 ${ms(summary.p99)} · max ${ms(summary.max)} ms${missed ? ` · ${missed} lost` : ""}`,
      pass: summary.p99 <= 10 && missed === 0,
      data: { ...summary, replies: latencies.length, missed, transport },
    };
  } finally {
    socket.close();
  }
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
    const answered = post(connection, app, "/send_message", { user_id: room, message: text });
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
