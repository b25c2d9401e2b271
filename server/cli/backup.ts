// npm run backup -- <dir>
//
// Writes a consistent copy of the database (while the service runs) and of
// the uploads into <dir>, with manifest.json and SHA256SUMS. The README's
// "Backups and restore" says how to put a backup back.
import { mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig, type Config } from "../config/env.js";
import { BackupError, createBackup, openSourceDatabase, type BackupSource } from "../db/backup.js";
import { consoleIo, runIfMain, type CliIo } from "./telegram-cli.js";

const USAGE = `Usage: npm run backup -- <dir>

Copies the running service's SQLite database (DATABASE_URL, through SQLite's
online backup API) and its uploads (UPLOAD_DIR) into <dir>, a new or empty
folder, with manifest.json and SHA256SUMS.`;

const POSTGRES_LINE =
  'DATABASE_URL is a PostgreSQL database: back it up with pg_dump instead (pg_dump --format=custom --file=<dir>/support.dump "$DATABASE_URL", and copy UPLOAD_DIR); see "Backups and restore" in the README.';

export interface BackupCliOptions {
  argv: readonly string[];
  config?: Config;
  io?: CliIo;
  now?: () => Date;
}

/** Where to copy from, or null after saying why on `io.err`. */
function backupSource(config: Config | undefined, io: CliIo): BackupSource | null {
  let loaded: Config;
  try {
    loaded = config ?? loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // the reason quotes the value; only its scheme is looked at, never printed (it holds a password)
    if (error.variable === "DATABASE_URL" && /"postgres(ql)?:\/\//i.test(error.reason)) io.err(POSTGRES_LINE);
    else io.err(`Configuration error: ${error.message}`);
    return null;
  }
  if (loaded.databasePath === null) {
    io.err(POSTGRES_LINE);
    return null;
  }
  return { databasePath: loaded.databasePath, databaseUrl: loaded.databaseUrl, uploadDir: loaded.uploadDir };
}

/** An existing empty folder at `dir` (made when missing), or a sentence saying why not. */
function prepareTarget(dir: string): string | null {
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a folder; give a new or empty folder for the backup.`;
    if (readdirSync(dir).length > 0) return `${dir} is not empty; give a new or empty folder, so no earlier backup is mixed with this one.`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    mkdirSync(dir, { recursive: true });
  }
  return null;
}

export async function runBackup({ argv, config, io = consoleIo, now }: BackupCliOptions): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a.startsWith("-"));
  const positional = argv.filter((a) => !a.startsWith("-"));
  if (unknown.length > 0 || positional.length !== 1) {
    io.err(`${positional.length === 0 && unknown.length === 0 ? "Give the folder to write the backup to." : `Unknown arguments: ${[...unknown, ...positional.slice(1)].join(" ")}`}\n\n${USAGE}`);
    return 2;
  }
  const source = backupSource(config, io);
  if (!source) return 1;
  const target = path.resolve(positional[0] as string);
  let live;
  try {
    live = openSourceDatabase(source);
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    io.err(error.message);
    return 1;
  }
  try {
    const refusal = prepareTarget(target);
    if (refusal) {
      io.err(refusal);
      return 1;
    }
    io.out(`Backing up ${source.databaseUrl} and ${source.uploadDir} to ${target}`);
    const manifest = await createBackup({ source, live, target, progress: io.out, now });
    const rows = Object.entries(manifest.database.rows)
      .map(([table, count]) => `${table} ${count}`)
      .join(", ");
    io.out(`Backup complete: ${manifest.database.migrations.length} migration(s), ${rows}; ${manifest.uploads.files.length} upload(s), ${manifest.uploads.bytes} bytes.`);
    return 0;
  } catch (error) {
    io.err(`Backup failed, ${target} is incomplete and should be deleted: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    live.close();
  }
}

runIfMain(import.meta.url, () => runBackup({ argv: process.argv.slice(2) }));
