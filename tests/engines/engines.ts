// The real PostgreSQL and Redis a test file needs, from TEST_POSTGRES_URL and
// TEST_REDIS_URL (.ci/run starts both; locally: `. tests/engines/start.sh`).
// Missing in CI (CI set) is an error, so an engine test can never pass by not
// running; outside CI the engine part is skipped with a line saying why.
import { randomBytes } from "node:crypto";
import pg from "pg";

type EngineVariable = "TEST_POSTGRES_URL" | "TEST_REDIS_URL";

const inCi = () => Boolean(process.env.CI) && process.env.CI !== "false" && process.env.CI !== "0";

/** The engine's URL, or null (outside CI only) when it is not configured. */
export function engineUrl(variable: EngineVariable): string | null {
  const url = process.env[variable]?.trim();
  if (url) return url;
  const how = "start the engines with `. tests/engines/start.sh` (README, Quick start)";
  if (inCi()) throw new Error(`${variable} is not set, so the engine tests cannot run; in CI they must: ${how}`);
  console.warn(`[engines] ${variable} is not set: skipping the tests that need it; ${how}`);
  return null;
}

/**
 * A database of its own for one test file, on the server at `serverUrl`;
 * `drop()` removes it (and ends what is still connected to it).
 */
export async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
