// Bulk history for the /message_history cells: the service's own migrations
// (applyMigrations, as the service runs them at start), then rows inserted
// with one prepared statement in large transactions, users interleaved the
// way a real chat log is (so one user's rows are spread over the table, not
// stored next to each other).
import path from "node:path";
import Database from "better-sqlite3";
import { applyMigrations } from "../../../server/db/migrate.js";
import { ROOT } from "./processes.js";

export const HISTORY_USER_PREFIX = "hist-";

export function migrate(file: string): void {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  applyMigrations(db, path.join(ROOT, "prisma", "migrations"));
  db.close();
}

/** Appends `count` messages over `users` users; returns how long it took (ms). */
export function fillHistory(file: string, count: number, users: number): number {
  const started = Date.now();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  applyMigrations(db, path.join(ROOT, "prisma", "migrations"));
  const insert = db.prepare(
    `INSERT INTO messages (user_id, user_name, message, direction, photo_urls, created_at, delivery, telegram_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const base = Date.now() - count * 1000;
  const batch = 50_000;
  // A fixed-seed generator: every run has the same table.
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const texts = ["Здравствуйте, не работает оплата", "Спасибо, всё получилось!", "Когда будет готово?", "Приложение закрывается при входе, версия 2.3.1 на Android 14", "Добрый день! Подскажите, пожалуйста, как сменить тариф?"];
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const k = done + i;
        const user = Math.floor(random() * users);
        const fromUser = random() < 0.6;
        const at = new Date(base + k * 1000).toISOString().replace("Z", "+00:00");
        const photos = random() < 0.05 ? JSON.stringify([`https://cdn.example.com/p/${k}.jpg`]) : "[]";
        insert.run(
          `${HISTORY_USER_PREFIX}${user}`,
          fromUser ? `User ${user}` : null,
          `${texts[k % texts.length]} #${k}`,
          fromUser ? "user" : "support",
          photos,
          at,
          fromUser ? "sent" : null,
          fromUser ? k + 1 : null,
        );
      }
    })();
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return Date.now() - started;
}
