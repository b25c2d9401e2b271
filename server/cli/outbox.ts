// npm run outbox -- list | retry <id> | skip <id>
//
// An operator's view of the outbox, safe while the service runs. On SQLite
// it opens the same file as a second connection (WAL lets readers and one
// writer work side by side; the busy timeout waits out the service's short
// write transactions), and the service notices a change within a few
// seconds (its lanes never sleep longer than QUEUE_RECHECK_MS). On
// PostgreSQL a retry also wakes the sending instance at once (NOTIFY).
//
//   list        the jobs in line and the ones set aside, with why
//   retry <id>  due now; a set-aside job goes back in line at its place (by id)
//   skip <id>   set aside ("skipped by operator"), so the queue moves on
import BetterSqlite3, { type Database } from "better-sqlite3";
import { ConfigError, loadConfig, type Config } from "../config/env.js";
import { PostgresSql, postgresPlace, SqliteSql, type Sql } from "../db/sql.js";
import { OutboxStore, type OutboxJob } from "../outbox/outbox-store.js";
import { QUEUE_RECHECK_MS } from "../outbox/wakeable-loop.js";
import { MessageStore } from "../support/message-store.js";
import { consoleIo, runIfMain, type CliIo } from "./telegram-cli.js";

export interface OutboxCliOptions {
  argv: readonly string[];
  config?: Config;
  io?: CliIo;
  now?: () => Date;
}

export const SKIPPED_BY_OPERATOR = "skipped by operator";

const USAGE = `Usage: npm run outbox -- <command>

  list        queued and set-aside jobs: id, lane, kind, user, age, attempts, last error or why it was set aside
  retry <id>  make the job due now; a set-aside job goes back in line at its place
  skip <id>   set the job aside ("skipped by operator") so the queue moves on; retry brings it back`;

type Command = { name: "list" } | { name: "retry" | "skip"; id: number };

function parseArgs(argv: readonly string[]): Command | string {
  const [name, id, ...rest] = argv;
  if (rest.length > 0) return `unexpected argument ${rest[0] ?? ""}`;
  if (name === "list" && id === undefined) return { name };
  if (name === "retry" || name === "skip") {
    if (id === undefined || !/^[1-9]\d{0,15}$/.test(id)) return `${name} needs a job id (a whole number, as npm run outbox -- list shows)`;
    return { name, id: Number(id) };
  }
  return name === undefined ? "no command given" : `unknown command ${name}`;
}

class OpenFailure extends Error {}

/** The service's database as a second connection, or an OpenFailure saying why not in one line. */
function openOutboxDatabase(file: string): Database {
  let db: Database;
  try {
    // Not readonly: retry and skip write. fileMustExist: a wrong DATABASE_URL must not create an empty database.
    db = new BetterSqlite3(file, { fileMustExist: true, timeout: 5_000 });
  } catch (error) {
    throw new OpenFailure(`Cannot open the database ${file} (${(error as Error).message}). Check DATABASE_URL; run this where the service runs.`);
  }
  try {
    db.prepare("SELECT set_aside_at FROM outbox LIMIT 0").all();
  } catch (error) {
    db.close();
    const message = (error as Error).message;
    if (/no such table/i.test(message)) throw new OpenFailure(`${file} is not this service's database (it has no outbox table). Check DATABASE_URL.`);
    if (/no such column/i.test(message)) throw new OpenFailure(`${file} has not been migrated to this version yet: start the service once (npm start), then run this again.`);
    throw new OpenFailure(`Cannot read the outbox in ${file} (${message}).`);
  }
  return db;
}

function age(from: Date, now: Date): string {
  let seconds = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  const units: [string, number][] = [["d", 86_400], ["h", 3_600], ["m", 60]];
  const parts: string[] = [];
  for (const [unit, size] of units) {
    if (seconds >= size || parts.length > 0) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
    if (parts.length === 2) return parts.join(" ");
  }
  parts.push(`${seconds}s`);
  return parts.slice(0, 2).join(" ");
}

function shorten(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
}

/** The outbox on PostgreSQL, checked as openOutboxDatabase checks a SQLite file. */
async function openPostgresOutbox(url: string): Promise<Sql> {
  const sql = new PostgresSql({ connectionString: url, max: 2 });
  const named = postgresPlace(url);
  try {
    await sql.get("SELECT set_aside_at FROM outbox LIMIT 0");
    return sql;
  } catch (error) {
    await sql.close().catch(() => undefined);
    const message = (error as Error).message;
    if (/relation .* does not exist/i.test(message)) throw new OpenFailure(`${named} is not this service's database (it has no outbox table). Check DATABASE_URL.`);
    if (/column .* does not exist/i.test(message)) throw new OpenFailure(`${named} has not been migrated to this version yet: start the service once (npm start), then run this again.`);
    throw new OpenFailure(`Cannot read the outbox in ${named} (${message}). Check DATABASE_URL.`);
  }
}

async function openSql(config: Config): Promise<Sql> {
  if (config.databasePath === null) return openPostgresOutbox(config.databaseUrl);
  return new SqliteSql(openOutboxDatabase(config.databasePath), true);
}

async function list(outbox: OutboxStore, io: CliIo, now: Date): Promise<number> {
  const jobs = await outbox.list();
  if (jobs.length === 0) {
    io.out("The outbox is empty: nothing queued, nothing set aside.");
    return 0;
  }
  const row = (job: OutboxJob): string[] => {
    const state = job.setAsideAt ? `set aside ${age(job.setAsideAt, now)} ago` : job.nextAttemptAt > now ? `retry in ${age(now, job.nextAttemptAt)}` : "due";
    const why = job.setAsideAt ? (job.setAsideReason ?? "") : (job.lastError ?? "");
    return [String(job.id), job.lane, job.kind, job.userId, age(job.createdAt, now), String(job.attempts), state, shorten(why, 120)];
  };
  io.out(table([["ID", "LANE", "KIND", "USER", "AGE", "ATTEMPTS", "STATE", "LAST ERROR / WHY SET ASIDE"], ...jobs.map(row)]).join("\n"));
  const aside = jobs.filter((j) => j.setAsideAt).length;
  io.out(`\n${jobs.length - aside} in line, ${aside} set aside. npm run outbox -- retry <id> sends one now; skip <id> sets one aside.`);
  return 0;
}

export async function runOutbox({ argv, config, io = consoleIo, now = () => new Date() }: OutboxCliOptions): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const command = parseArgs(argv);
  if (typeof command === "string") {
    io.err(`${command}\n\n${USAGE}`);
    return 2;
  }
  let sql: Sql;
  try {
    sql = await openSql(config ?? loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) io.err(`Configuration error: ${error.message}`);
    else if (error instanceof OpenFailure) io.err(error.message);
    else throw error;
    return 1;
  }
  try {
    const outbox = new OutboxStore(sql);
    if (command.name === "list") return await list(outbox, io, now());
    const job = await outbox.byId(command.id);
    if (!job) {
      io.err(`There is no outbox job ${command.id} (it may have been sent meanwhile); npm run outbox -- list shows the jobs there are.`);
      return 1;
    }
    const within = `within ${Math.ceil(QUEUE_RECHECK_MS / 1000)} s`;
    if (command.name === "retry") {
      await sql.transaction(async (tx) => {
        await outbox.in(tx).retryAt(job.id, now());
        if (job.setAsideAt && job.lane === "telegram" && job.messageId !== null) await new MessageStore(tx).markDelivery(job.messageId, "queued");
      });
      io.out(
        job.setAsideAt
          ? `Job ${job.id} is back in the ${job.lane} lane at its place and due now; the running service picks it up ${within}.`
          : `Job ${job.id} is due now; the running service tries it ${within}.`,
      );
      return 0;
    }
    if (job.setAsideAt) {
      io.out(`Job ${job.id} is already set aside (${job.setAsideReason ?? "no reason recorded"}); npm run outbox -- retry ${job.id} puts it back.`);
      return 0;
    }
    await sql.transaction(async (tx) => {
      await outbox.in(tx).setAside(job.id, SKIPPED_BY_OPERATOR, now());
      if (job.lane === "telegram" && job.messageId !== null) await new MessageStore(tx).markDelivery(job.messageId, "set_aside");
    });
    io.out(`Job ${job.id} is set aside (${SKIPPED_BY_OPERATOR}); the queue moves on ${within}. npm run outbox -- retry ${job.id} puts it back.`);
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    io.err(/busy|locked/i.test(message) ? `The database stayed busy for 5 s (${message}); try again.` : `The outbox command failed: ${message}`);
    return 1;
  } finally {
    await sql.close();
  }
}

runIfMain(import.meta.url, () => runOutbox({ argv: process.argv.slice(2) }));
