// Removes the run's scratch folder (SQLite file, uploads) made in playwright.config.ts.
import { rm } from "node:fs/promises";

export default async function teardown(): Promise<void> {
  const dir = process.env.E2E_RUN_DIR;
  if (dir && !process.env.E2E_KEEP_DATA) await rm(dir, { recursive: true, force: true });
}
