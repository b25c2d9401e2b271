// GET /ready: whether this instance can serve traffic now, for a load
// balancer or an orchestrator to route around it. /health stays the
// liveness check (the process answers at all); a failed readiness check
// must not get the process restarted, only taken out of rotation.
import type { SqlRunner } from "../db/sql.js";

export interface ReadinessCheck {
  /** names the dependency in the 503's reason */
  name: string;
  /** resolves when the dependency answers; throws (or rejects) when not */
  check(): unknown;
}

export type Readiness = { ready: true } | { ready: false; reason: string };

/** A dependency that hangs is as unready as one that refuses. */
const CHECK_TIMEOUT_MS = 2_000;

/** The database answers a trivial query on the connection the hot paths use. */
export function databaseCheck(sql: SqlRunner): ReadinessCheck {
  return {
    name: "database",
    check: () => sql.get("SELECT 1 AS ok"),
  };
}

// Redis (SPEC §8) adds server/cluster/redis.ts's redisCheck(redis) to the
// list the app builds; nothing here changes.
export async function checkReadiness(checks: readonly ReadinessCheck[]): Promise<Readiness> {
  for (const { name, check } of checks) {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      });
      await Promise.race([Promise.resolve().then(() => check()), timeout]);
    } catch (error) {
      return { ready: false, reason: `${name}: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      clearTimeout(timer);
    }
  }
  return { ready: true };
}
