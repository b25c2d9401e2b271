// Agent reply → socket latency, shared by the realtime phase (one instance)
// and the cluster phase (socket on one instance, webhook to another):
// sequential webhook POSTs of real Updates until the `new_message` event
// with the reply's text reaches a socket joined to the user. Where the
// socket connects and where the webhook goes are the caller's choice.
import { performance } from "node:perf_hooks";
import type { Update } from "grammy/types";
import { io, type Socket } from "socket.io-client";
import { encodeRequest, type KeepAliveConnection } from "./keep-alive-client.js";
import { summarize, type LatencySummary } from "./stats.js";

export interface WireMessage {
  id: number;
  user_id: string;
  message: string;
}

/**
 * "default": socket.io-client as the apps leave it (long-polling first, then
 * the upgrade to WebSocket); "websocket": WebSocket from the start.
 */
export type Transports = "default" | "websocket";

/** A socket.io-client connected to `url` and joined to `userId`'s room. */
export function connectSocket(url: string, userId: string, transports: Transports = "websocket"): Promise<Socket> {
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

/** POSTs JSON on a keep-alive connection; anything but 200 is an error. */
export async function postJson(connection: KeepAliveConnection, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const answer = await connection.request(encodeRequest(connection.host, connection.port, { method: "POST", path, body: JSON.stringify(body), headers }));
  if (answer.status !== 200) throw new Error(`${path} on port ${connection.port} answered ${answer.status}: ${answer.body.toString("utf8").slice(0, 300)}`);
  return JSON.parse(answer.body.toString("utf8")) as Record<string, unknown>;
}

export interface ReplyLatencyOptions {
  /** where the socket connects (an instance, or the load balancer) */
  socketUrl: string;
  /** where /send_message (the user's first message) goes */
  send: KeepAliveConnection;
  /** where the webhook POSTs go */
  webhook: KeepAliveConnection;
  webhookSecret: string;
  userId: string;
  transports: Transports;
  warmup: number;
  replies: number;
  /** `count` agent replies in the group to the bot's post `replyTo`, as Telegram would deliver them */
  makeReplies(replyTo: number, count: number): Promise<Update[]>;
}

export interface ReplyLatencyResult extends LatencySummary {
  /** counted replies (warm-up excluded) */
  replies: number;
  /** replies whose event never arrived within 5 s */
  missed: number;
  /** the transport the client ended on */
  transport: string;
  /** the webhook POST alone (write to its answer): how much of the latency is the update's processing */
  answered: LatencySummary;
}

export async function measureReplyLatency(options: ReplyLatencyOptions): Promise<ReplyLatencyResult> {
  const socket = await connectSocket(options.socketUrl, options.userId, options.transports);
  try {
    const sent = await postJson(options.send, "/send_message", { user_id: options.userId, user_name: "Reply Bench", message: "Помогите, пожалуйста" });
    const telegramId = sent.message_id;
    if (typeof telegramId !== "number") throw new Error(`the first message was not posted to the group at once (${JSON.stringify(sent)})`);
    const updates = await options.makeReplies(telegramId, options.warmup + options.replies);
    const latencies: number[] = [];
    const answers: number[] = [];
    let missed = 0;
    for (const [i, update] of updates.entries()) {
      const text = update.message?.text ?? "";
      const arrived = new Promise<number>((resolve) => {
        const timer = setTimeout(() => {
          socket.off("new_message", onMessage);
          resolve(NaN);
        }, 5_000);
        const onMessage = (m: WireMessage) => {
          if (m.message !== text) return;
          clearTimeout(timer);
          socket.off("new_message", onMessage);
          resolve(performance.now());
        };
        socket.on("new_message", onMessage);
      });
      const t0 = performance.now();
      await postJson(options.webhook, "/api/telegram/webhook", update, { "X-Telegram-Bot-Api-Secret-Token": options.webhookSecret });
      const answeredAt = performance.now();
      const t1 = await arrived;
      if (Number.isNaN(t1)) missed++;
      else if (i >= options.warmup) {
        latencies.push(t1 - t0);
        answers.push(answeredAt - t0);
      }
    }
    // With the defaults the client should have left polling during the warm-up.
    return { ...summarize(latencies), replies: latencies.length, missed, transport: socket.io.engine.transport.name, answered: summarize(answers) };
  } finally {
    socket.close();
  }
}
