// Shared set-up for the Speaking Diary tests: a real database on the engine
// under test (a SQLite file in a temp folder, or a fresh PostgreSQL
// database with TEST_ENGINE=postgres), migrated like production, and signed
// initData for any user.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { migrationsDirFor, openDatabase, type Db } from "../../server/db/database.js";
import { signInitData } from "../../server/diary/init-data.js";
import { createDispatcher } from "../../server/http/dispatch.js";
import type { Router } from "../../server/http/router.js";
import type { TelegramUserInput } from "../../server/diary/types.js";
import { createLogger, type Logger } from "../../server/logger.js";
import { databaseUrlFor, PROJECT_ROOT } from "../fixtures/test-app.js";

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../prisma/migrations");
export const BOT_TOKEN = "123456789:TEST-diary-token_abc";

export interface DiaryTestDb {
  db: Db;
  logger: Logger;
  cleanup(): Promise<void>;
}

export async function openTestDb(): Promise<DiaryTestDb> {
  const dir = mkdtempSync(path.join(tmpdir(), "diary-test-"));
  const url = await databaseUrlFor(dir);
  const db = await openDatabase({ url, migrationsDir: migrationsDirFor(url, PROJECT_ROOT) });
  return {
    db,
    logger: createLogger({ level: "silent", secrets: [BOT_TOKEN] }),
    async cleanup() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Serves a Router on loopback through the service's own request dispatcher. */
export async function serveRouter(router: Router, logger: Logger): Promise<{ server: Server; base: string }> {
  const server = createServer(createDispatcher(router, undefined, logger).handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let nextUserId = 10_000 + Math.floor(Math.random() * 1_000_000);

/** A Telegram user no other test uses, so tests need no cleanup between them. */
export function makeUser(overrides: Partial<TelegramUserInput> = {}): TelegramUserInput {
  const id = nextUserId++;
  return { id, first_name: `User${id}`, username: `user${id}`, language_code: "en", ...overrides };
}

export interface SignOptions {
  botToken?: string;
  /** seconds since epoch; default now */
  authDate?: number;
  extra?: Record<string, string>;
}

/** initData as Telegram would hand it to the Mini App of `user`. */
export function initDataFor(user: TelegramUserInput, { botToken = BOT_TOKEN, authDate, extra = {} }: SignOptions = {}): string {
  return signInitData(
    {
      query_id: "AAHdF6IQAAAAAN0XohDhrOrc",
      user: JSON.stringify(user),
      auth_date: String(authDate ?? Math.floor(Date.now() / 1000)),
      ...extra,
    },
    botToken,
  );
}
