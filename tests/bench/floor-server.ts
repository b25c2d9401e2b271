// The floor: the least a Node process must do for the same answers, as a
// yardstick for the service in the same run. node:http, one better-sqlite3
// connection (WAL, synchronous=NORMAL like the service), prepared statements,
// a keep-alive agent to the Telegram stand-in. No framework, no logging.
//
//   POST /send_message        store-only: validate, insert message + outbox row in one transaction, answer
//   POST /send_message/full   the same, then sendMessage to the group, mark sent, drop the outbox row, answer
//   GET  /message_history/:id newest 50, oldest first, in the wire shape
//
// Usage: tsx tests/bench/floor-server.ts <db-file> <port> <telegram-api-root> <bot-token> <group-chat-id>
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import { applyMigrations } from "../../server/db/migrate.js";

const [dbFile, portText, apiRoot, token, groupText] = process.argv.slice(2);
if (!dbFile || !portText || !apiRoot || !token || !groupText) throw new Error("usage: floor-server <db> <port> <api-root> <token> <group>");
const groupChatId = Number(groupText);

const db = new Database(dbFile);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
applyMigrations(db, path.join(import.meta.dirname, "..", "..", "prisma", "migrations"));

const insertMessage = db.prepare(
  `INSERT INTO messages (user_id, user_name, message, direction, photo_urls, created_at, delivery) VALUES (?, ?, ?, 'user', '[]', ?, 'queued') RETURNING id`,
);
const insertJob = db.prepare(
  `INSERT INTO outbox (lane, kind, user_id, message_id, payload, next_attempt_at, created_at) VALUES ('telegram', 'group_post', ?, ?, ?, ?, ?) RETURNING id`,
);
const markSent = db.prepare(`UPDATE messages SET delivery = 'sent', telegram_message_id = ? WHERE id = ?`);
const removeJob = db.prepare(`DELETE FROM outbox WHERE id = ?`);
const history = db.prepare(`SELECT id, user_id, message, direction, photo_urls, created_at FROM messages WHERE user_id = ? ORDER BY id DESC LIMIT ?`);

const store = db.transaction((userId: string, userName: string | null, text: string) => {
  const at = new Date().toISOString().replace("Z", "+00:00");
  const message = insertMessage.get(userId, userName, text, at) as { id: number };
  const payload = JSON.stringify({ post: { messageId: message.id, userId, userName, text, photos: [] }, step: 0, sentIds: [] });
  const job = insertJob.get(userId, message.id, payload, at, at) as { id: number };
  return { messageId: message.id, jobId: job.id };
});
const complete = db.transaction((messageId: number, jobId: number, telegramId: number) => {
  markSent.run(telegramId, messageId);
  removeJob.run(jobId);
});

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const api = new URL(`${apiRoot}/bot${token}/sendMessage`);

function sendToGroup(text: string): Promise<number> {
  const body = JSON.stringify({ chat_id: groupChatId, text, link_preview_options: { is_disabled: true } });
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: api.hostname, port: api.port, path: api.pathname, method: "POST", headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { ok: boolean; result?: { message_id: number }; description?: string };
          if (answer.ok && answer.result) resolve(answer.result.message_id);
          else reject(new Error(answer.description ?? "sendMessage failed"));
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(payload) });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

interface SendInput {
  userId: string;
  userName: string | null;
  text: string;
}

/** The same acceptance rules the service applies, written by hand. */
function validate(raw: string): SendInput | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "the request body is not valid JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "the request body must be a JSON object";
  const body = value as Record<string, unknown>;
  const userId = typeof body.user_id === "number" ? String(body.user_id) : body.user_id;
  if (typeof userId !== "string" || userId.trim() === "" || userId.length > 128) return "user_id is required";
  if (typeof body.message !== "string" || body.message.length > 16_384) return "message must be a string of at most 16384 characters";
  if (body.message.trim() === "") return "message is required";
  const name = body.user_name;
  if (name !== undefined && name !== null && (typeof name !== "string" || name.length > 256)) return "user_name must be a string";
  return { userId: userId.trim(), userName: typeof name === "string" && name.trim() ? name.trim() : null, text: body.message };
}

async function sendMessage(req: IncomingMessage, res: ServerResponse, full: boolean): Promise<void> {
  const input = validate(await readBody(req));
  if (typeof input === "string") return json(res, 400, { success: false, error: input });
  const { messageId, jobId } = store(input.userId, input.userName, input.text);
  let telegramId: number | null = null;
  if (full) {
    telegramId = await sendToGroup(`${input.userName ?? input.userId}: ${input.text}`);
    complete(messageId, jobId, telegramId);
  }
  json(res, 200, { success: true, message_id: telegramId, photo_url: null, photo_count: 0, id: messageId, delivery: full ? "sent" : "queued" });
}

interface HistoryRow {
  id: number;
  user_id: string;
  message: string;
  direction: string;
  photo_urls: string;
  created_at: string;
}

function messageHistory(res: ServerResponse, userId: string): void {
  const rows = history.all(userId, 50) as HistoryRow[];
  const messages = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as HistoryRow;
    const photos = row.photo_urls === "[]" ? [] : (JSON.parse(row.photo_urls) as string[]);
    messages[rows.length - 1 - i] = {
      id: row.id,
      user_id: row.user_id,
      message: row.message,
      photo_url: photos[0] ?? null,
      photo_urls: photos,
      direction: row.direction,
      created_at: row.created_at.slice(0, 19).replace("T", " "),
    };
  }
  json(res, 200, { success: true, messages, greeting_sent: false });
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  const work =
    req.method === "POST" && url === "/send_message"
      ? sendMessage(req, res, false)
      : req.method === "POST" && url === "/send_message/full"
        ? sendMessage(req, res, true)
        : req.method === "GET" && url.startsWith("/message_history/")
          ? Promise.resolve(messageHistory(res, decodeURIComponent(url.slice("/message_history/".length).split("?")[0] ?? "")))
          : Promise.resolve(json(res, req.url === "/health" ? 200 : 404, { status: "ok" }));
  work.catch((error: unknown) => json(res, 500, { success: false, error: error instanceof Error ? error.message : String(error) }));
});
server.listen(Number(portText), "127.0.0.1", () => process.stdout.write(`floor listening on ${portText}\n`));
const stop = () => server.close(() => {
  db.close();
  process.exit(0);
});
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
