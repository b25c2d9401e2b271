// A backup taken while the service is being written to, restored with the
// README's steps as written into a fresh folder, gives a service that has
// every message accepted before the backup started and serves its photos.
// Also: what `npm run backup` says when it cannot or must not work.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runBackup } from "../../server/cli/backup.js";
import type { CliIo } from "../../server/cli/telegram-cli.js";
import { parseConfig } from "../../server/config/env.js";
import type { BackupManifest } from "../../server/db/backup.js";
import { openDatabase } from "../../server/db/database.js";
import { MessageStore } from "../../server/support/message-store.js";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import { makeGif, makePng } from "../fixtures/images.js";
import { spawnApp, type AppProcess } from "../fixtures/spawn-app.js";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

const run = promisify(execFile);
const MIGRATIONS = path.join(PROJECT_ROOT, "prisma", "migrations");
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "backup-restore-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shell block the README gives for restoring, exactly as written there. */
function readmeRestoreSteps(): string {
  const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
  const block = /<!-- restore-steps[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no "restore-steps" shell block');
  return block;
}

interface Sent {
  user: string;
  text: string;
  answeredAt: number;
}

async function stop(app: AppProcess): Promise<void> {
  app.child.kill("SIGTERM");
  await app.exited;
}

describe("backup under write load, restored with the README's steps", () => {
  test("the restored service has every message answered before the backup started, and serves the photos", async () => {
    const live = { db: path.join(dir, "live", "data", "support_bot.db"), uploads: path.join(dir, "live", "uploads") };
    // A database of some size, so the copy takes several steps and the
    // service's writes land between them.
    const seed = await openDatabase({ url: `file:${live.db}`, migrationsDir: MIGRATIONS });
    await seed.sql.transaction(async (tx) => {
      const seedMessages = new MessageStore(tx);
      for (let i = 0; i < 40_000; i++) await seedMessages.insert({ userId: `archive-${i % 100}`, userName: null, text: `archived ${i} ${"·".repeat(300)}`, direction: "user", photoUrls: [] });
    });
    await seed.close();

    // The load comes through a "proxy" that names many app users' addresses,
    // so the per-address limit of §2 does not stop it halfway.
    const liveEnv = { DATABASE_URL: `file:${live.db}`, UPLOAD_DIR: live.uploads, TRUST_PROXY: "true" };
    const app = await spawnApp(liveEnv);
    const sent: Sent[] = [];
    const photos: { user: string; url: string; bytes: Buffer }[] = [];
    let stopLoad = false;
    let backupProcess: Promise<{ stdout: string; stderr: string }> | null = null;
    try {
      for (const [i, bytes] of [makePng(6, 6), makeGif(), makePng(9, 3, [10, 200, 30])].entries()) {
        const user = `photo-user-${i}`;
        const res = await requestJson<{ success: boolean; photo_url: string }>(`${app.url}/send_message`, {
          method: "POST",
          body: photoForm({ user_id: user, message: `photo ${i}` }, [{ bytes, name: `p${i}.png` }]),
        });
        expect(res.body.success).toBe(true);
        sent.push({ user, text: `photo ${i}`, answeredAt: Date.now() });
        photos.push({ user, url: res.body.photo_url, bytes: Buffer.from(await (await fetch(`${app.url}${res.body.photo_url}`)).arrayBuffer()) });
      }

      // Two writers keep posting until the backup has finished.
      const writer = async (w: number) => {
        for (let i = 0; !stopLoad && i < 5000; i++) {
          const user = `load-${w}-${i % 100}`;
          const text = `load ${w}.${i}`;
          const res = await postJson<{ success: boolean }>(`${app.url}/send_message`, { user_id: user, message: text }, { "x-forwarded-for": `10.${w}.${Math.floor(i / 200)}.1` });
          if (res.status === 200 && res.body.success) sent.push({ user, text, answeredAt: Date.now() });
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      const load = Promise.all([writer(1), writer(2)]);
      await expect.poll(() => sent.length, { timeout: 10_000 }).toBeGreaterThan(30);

      const target = path.join(dir, "backup-1");
      const backupStartedAt = Date.now();
      backupProcess = run("npm", ["run", "--silent", "backup", "--", target], { cwd: PROJECT_ROOT, env: { ...process.env, ...liveEnv } });
      const { stdout } = await backupProcess;
      const backupEndedAt = Date.now();
      stopLoad = true;
      await load;
      await stop(app);

      expect(stdout).toMatch(/database: (\d+)\/\1 pages copied/);
      // The photos, plus the JPEG copy the GIF gets for Telegram (UPLOAD_DIR/.telegram/): a queued post needs it after a restore.
      const liveFiles = readdirSync(live.uploads, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile() && !path.relative(live.uploads, entry.parentPath).startsWith(".incoming"))
        .map((entry) => path.join("uploads", path.relative(live.uploads, path.join(entry.parentPath, entry.name))))
        .sort();
      expect(liveFiles.length).toBe(photos.length + 1);
      expect(stdout).toContain(`uploads: ${liveFiles.length}/${liveFiles.length} files copied`);
      expect(sent.filter((m) => m.answeredAt > backupStartedAt && m.answeredAt < backupEndedAt).length, "messages accepted while the backup ran").toBeGreaterThan(0);
      const manifest = JSON.parse(readFileSync(path.join(target, "manifest.json"), "utf8")) as BackupManifest;
      expect(manifest.source).toEqual({ databaseUrl: `file:${live.db}`, uploadDir: live.uploads });
      expect(manifest.database.integrity).toBe("ok");
      expect(manifest.database.migrations.length).toBeGreaterThanOrEqual(2);
      expect(manifest.database.rows.messages).toBeGreaterThanOrEqual(40_000 + sent.filter((m) => m.answeredAt < backupStartedAt).length);
      expect(manifest.uploads.files.map((f) => f.path).sort()).toEqual(liveFiles);
      for (const photo of photos) expect(liveFiles).toContain(`uploads${photo.url.slice("/uploads".length)}`);

      // Restore into a fresh folder, with the README's block as written.
      const fresh = { db: path.join(dir, "restored", "data", "support_bot.db"), uploads: path.join(dir, "restored", "uploads") };
      await run("bash", ["-euo", "pipefail", "-c", readmeRestoreSteps()], { env: { ...process.env, BACKUP: target, DB: fresh.db, UPLOADS: fresh.uploads } });

      const restored = await spawnApp({ DATABASE_URL: `file:${fresh.db}`, UPLOAD_DIR: fresh.uploads });
      try {
        const accepted = sent.filter((m) => m.answeredAt < backupStartedAt);
        for (const user of new Set(accepted.map((m) => m.user))) {
          const history = await requestJson<{ messages: { message: string }[] }>(`${restored.url}/message_history/${user}?limit=200`);
          const texts = new Set(history.body.messages.map((m) => m.message));
          expect(accepted.filter((m) => m.user === user && !texts.has(m.text)).map((m) => m.text), `missing from ${user}`).toEqual([]);
        }
        for (const photo of photos) {
          const res = await fetch(`${restored.url}${photo.url}`);
          expect(res.status).toBe(200);
          expect(Buffer.from(await res.arrayBuffer()).equals(photo.bytes)).toBe(true);
        }
      } finally {
        await stop(restored);
      }
    } finally {
      stopLoad = true;
      await backupProcess?.catch(() => undefined);
      if (app.child.exitCode === null) await stop(app);
    }
  }, 90_000);
});

describe("npm run backup refuses", () => {
  const io = () => {
    const lines = { out: [] as string[], err: [] as string[] };
    const cli: CliIo = { out: (l) => lines.out.push(l), err: (l) => lines.err.push(l) };
    return { lines, cli };
  };
  const configFor = (env: Record<string, string>) => parseConfig({ TELEGRAM_MODE: "off", ...env }, dir);

  test("a folder that is not empty, and writes nothing into it", async () => {
    const file = path.join(dir, "refuse", "app.db");
    const db = await openDatabase({ url: `file:${file}`, migrationsDir: MIGRATIONS });
    await db.close();
    const target = path.join(dir, "refuse", "old-backup");
    mkdirSync(target);
    writeFileSync(path.join(target, "manifest.json"), "{}");
    const { lines, cli } = io();
    expect(await runBackup({ argv: [target], config: configFor({ DATABASE_URL: `file:${file}` }), io: cli })).toBe(1);
    expect(lines.err.join("\n")).toBe(`${target} is not empty; give a new or empty folder, so no earlier backup is mixed with this one.`);
    expect(readFileSync(path.join(target, "manifest.json"), "utf8")).toBe("{}");
  });

  test("a database that cannot be opened, saying which, without creating it", async () => {
    const file = path.join(dir, "nowhere", "missing.db");
    const { lines, cli } = io();
    expect(await runBackup({ argv: [path.join(dir, "never")], config: configFor({ DATABASE_URL: `file:${file}` }), io: cli })).toBe(1);
    expect(lines.err.join("\n")).toMatch(new RegExp(`^Cannot open the database file:${file} \\(DATABASE_URL\\): .+\\. Check DATABASE_URL`));
    expect(() => readFileSync(file)).toThrow();
  });

  test("a PostgreSQL DATABASE_URL, in one line pointing to pg_dump, without echoing the password", async () => {
    const { lines, cli } = io();
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "postgres://support:s3cret@db.internal:5432/support";
    try {
      expect(await runBackup({ argv: [path.join(dir, "pg")], io: cli })).toBe(1);
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
    expect(lines.err).toHaveLength(1);
    expect(lines.err[0]).toMatch(/PostgreSQL.*pg_dump/);
    expect(lines.err[0]).not.toContain("s3cret");
  });

  test("no folder given, with the usage", async () => {
    const { lines, cli } = io();
    expect(await runBackup({ argv: [], io: cli })).toBe(2);
    expect(lines.err.join("\n")).toMatch(/^Give the folder to write the backup to\.\n\nUsage: npm run backup -- <dir>/);
  });
});
