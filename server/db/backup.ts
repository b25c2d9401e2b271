// A consistent copy of the live SQLite database and the uploads, with a
// manifest. The database goes through SQLite's online backup API: copying
// the file of a WAL database (while the service writes) can take a main file
// and a WAL from different moments, which SQLite then reads as corrupt or as
// an older state.
//
// Order matters: the database first, then the uploads. A photo is written
// before the message that names it, so every photo a copied message names is
// on disk when the uploads folder is listed afterwards.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";

export const DATABASE_FILE = "database.db";
export const UPLOADS_FOLDER = "uploads";
export const MANIFEST_FILE = "manifest.json";
export const CHECKSUMS_FILE = "SHA256SUMS";

/** Tables whose row counts the manifest records, so a restore can be checked at a glance. */
const MAIN_TABLES = ["messages", "outbox", "message_mapping", "device_tokens", "greetings_sent", "processed_updates", "diary_users", "diary_sessions", "notes"];

/** Pages per backup step (4 KiB each): big enough to be quick, small enough to show progress. */
const STEP_PAGES = 2048;
/** Whatever is left, in one step. */
const ALL_PAGES = 0x7fffffff;
const PROGRESS_EVERY_MS = 1000;

/** Partial uploads being received; never referenced by a message. */
const SKIPPED_UPLOAD_ENTRIES = new Set([".incoming"]);

export interface BackupSource {
  databasePath: string;
  databaseUrl: string;
  uploadDir: string;
}

export interface ManifestFile {
  /** relative to the backup folder, with forward slashes */
  path: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: 1;
  createdAt: string;
  source: { databaseUrl: string; uploadDir: string };
  database: ManifestFile & { integrity: string; migrations: string[]; rows: Record<string, number> };
  uploads: { files: ManifestFile[]; bytes: number };
}

export class BackupError extends Error {}

/** The live database, read-only; a BackupError in words when it cannot be opened. */
export function openSourceDatabase(source: BackupSource): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(source.databasePath, { readonly: true, fileMustExist: true, timeout: 5000 });
    db.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (error) {
    throw new BackupError(
      `Cannot open the database ${source.databaseUrl} (DATABASE_URL): ${describe(error)}. Check DATABASE_URL; the service creates the file at its first start.`,
    );
  }
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get()) {
    db.close();
    throw new BackupError(`${source.databaseUrl} (DATABASE_URL) is not this service's database: it has no _prisma_migrations table.`);
  }
  return db;
}

export interface CreateBackupOptions {
  source: BackupSource;
  /** the opened live database (openSourceDatabase) */
  live: Database.Database;
  /** an existing, empty folder */
  target: string;
  progress: (line: string) => void;
  now?: () => Date;
}

export async function createBackup({ source, live, target, progress, now = () => new Date() }: CreateBackupOptions): Promise<BackupManifest> {
  const createdAt = now().toISOString();
  const dbCopy = path.join(target, DATABASE_FILE);
  await copyDatabase(live, dbCopy, progress);
  const facts = describeCopy(dbCopy);
  const database = { ...(await fileEntry(target, DATABASE_FILE)), ...facts };
  const files = await copyUploads(source.uploadDir, path.join(target, UPLOADS_FOLDER), target, progress);
  const manifest: BackupManifest = {
    format: 1,
    createdAt,
    source: { databaseUrl: source.databaseUrl, uploadDir: source.uploadDir },
    database,
    uploads: { files, bytes: files.reduce((sum, f) => sum + f.bytes, 0) },
  };
  await writeFile(path.join(target, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  // the format `sha256sum -c` (and `shasum -a 256 -c`) reads
  await writeFile(path.join(target, CHECKSUMS_FILE), [database, ...files].map((f) => `${f.sha256}  ${f.path}\n`).join(""));
  return manifest;
}

async function copyDatabase(live: Database.Database, file: string, progress: (line: string) => void): Promise<void> {
  let lastRemaining = Number.POSITIVE_INFINITY;
  let restarted = false;
  let printedAt = 0;
  const done = await live.backup(file, {
    progress({ totalPages, remainingPages }) {
      // A write by the service between two steps restarts the copy from the
      // first page; under steady writes that could go on for ever, so after
      // one restart the rest goes in a single step (one read snapshot, which
      // in WAL mode does not block the service's writers).
      const restartedNow = !restarted && remainingPages > lastRemaining;
      if (restartedNow) restarted = true;
      lastRemaining = remainingPages;
      if (restartedNow || Date.now() - printedAt >= PROGRESS_EVERY_MS) {
        printedAt = Date.now();
        progress(`database: ${totalPages - remainingPages}/${totalPages} pages copied${restarted ? " (restarted after a write; copying the rest at once)" : ""}`);
      }
      return restarted ? ALL_PAGES : STEP_PAGES;
    },
  });
  progress(`database: ${done.totalPages}/${done.totalPages} pages copied`);
}

/** Makes the copy one self-contained file and reads what the manifest says about it. */
function describeCopy(file: string): { integrity: string; migrations: string[]; rows: Record<string, number> } {
  const copy = new Database(file);
  try {
    // The live database is in WAL mode and the copy inherits it; a copy in
    // rollback mode has no -wal/-shm companions to forget. The service
    // switches it back to WAL when it opens it.
    copy.pragma("journal_mode = DELETE");
    const integrity = (copy.pragma("quick_check") as { quick_check: string }[]).map((r) => r.quick_check).join("; ");
    if (integrity !== "ok") throw new BackupError(`the copy of the database fails SQLite's check (${integrity}); the backup is not usable`);
    const migrations = copy
      .prepare(`SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`)
      .pluck()
      .all() as string[];
    const present = new Set(copy.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    const rows: Record<string, number> = {};
    for (const table of MAIN_TABLES.filter((t) => present.has(t))) rows[table] = copy.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
    return { integrity, migrations, rows };
  } finally {
    copy.close();
  }
}

async function copyUploads(from: string, to: string, backupRoot: string, progress: (line: string) => void): Promise<ManifestFile[]> {
  const names = await listFiles(from);
  await mkdir(to, { recursive: true });
  const copied: ManifestFile[] = [];
  let printedAt = Date.now();
  for (const name of names) {
    const destination = path.join(to, name);
    await mkdir(path.dirname(destination), { recursive: true });
    try {
      await copyFile(path.join(from, name), destination);
    } catch (error) {
      // removed between listing and copying: a discarded upload no message names
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    copied.push(await fileEntry(backupRoot, path.relative(backupRoot, destination)));
    if (Date.now() - printedAt >= PROGRESS_EVERY_MS) {
      printedAt = Date.now();
      progress(`uploads: ${copied.length}/${names.length} files copied`);
    }
  }
  progress(`uploads: ${copied.length}/${names.length} files copied`);
  return copied;
}

/** Every file under `dir`, relative to it; none when the folder does not exist yet. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path.join(dir, prefix), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && prefix === "") return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (prefix === "" && SKIPPED_UPLOAD_ENTRIES.has(entry.name)) continue;
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(dir, relative)));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}

async function fileEntry(root: string, relative: string): Promise<ManifestFile> {
  const full = path.join(root, relative);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
  return { path: relative.split(path.sep).join("/"), bytes: (await stat(full)).size, sha256: hash.digest("hex") };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
