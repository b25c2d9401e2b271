// The cluster of SPEC §8 for one test file: two instances on a fresh
// PostgreSQL database and a Redis of its own (no count of another file or
// run carries over, and a test may stop it), plus what the tests that send
// through the load balancer ask of it.
import { expect } from "vitest";
import { postJson } from "../fixtures/http.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { clusterEngines, startCluster, type Cluster, type ClusterOptions } from "./cluster.js";
import { startOwnRedis, type OwnRedis } from "./redis-server.js";

export interface EngineCluster {
  cluster: Cluster;
  redis: OwnRedis;
  /** stops the instances and nginx, then Redis, and drops the database */
  close(): Promise<void>;
}

export async function startEngineCluster(options: Omit<ClusterOptions, "databaseUrl" | "redisUrl">): Promise<EngineCluster> {
  const redis = await startOwnRedis();
  try {
    const engines = await clusterEngines(redis.url);
    const cluster = await startCluster({ ...options, databaseUrl: engines.databaseUrl, redisUrl: engines.redisUrl });
    return {
      cluster,
      redis,
      async close() {
        await cluster.close();
        await redis.stop();
        await engines.drop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

/** The texts posted into `group` that contain `prefix`, from the prefix on. */
export function postedTexts(cluster: Cluster, group: number, prefix: string): string[] {
  return cluster.tg.sent(group).flatMap((m) => (m.text?.includes(prefix) ? [m.text.slice(m.text.indexOf(prefix))] : []));
}

/** The instances whose /health says they send (exactly one, when all is well). */
export async function leaderNames(cluster: Cluster): Promise<string[]> {
  return (await cluster.healths()).filter((h) => h.leader).map((h) => h.instance);
}

/** A user's message through nginx; it must be accepted. */
export async function sendViaLb(cluster: Cluster, userId: string, text: string): Promise<SendAnswer> {
  const res = await postJson<SendAnswer>(`${cluster.lbUrl}/send_message`, { user_id: userId, message: text });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
