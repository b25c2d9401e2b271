// What one scrape of /metrics asks the database: the outbox's lanes once
// each, shared by the depth and the age gauges (counting a backlog is the
// costliest part of a scrape), and afresh on the next scrape.
import { describe, expect, test } from "vitest";
import type { Lane, LaneStats } from "../../server/outbox/outbox-store.js";
import { ServiceMetrics } from "../../server/ops/metrics.js";
import { parseSamples, sampleValue } from "../fixtures/prometheus-text.js";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

function metricsWith(stats: (lane: Lane) => LaneStats | Promise<LaneStats>) {
  const reads: Lane[] = [];
  const metrics = new ServiceMetrics(
    {
      outboxStats: async (lane) => {
        reads.push(lane);
        return stats(lane);
      },
      setAsideJobs: async () => 0,
      connectedSockets: () => 0,
    },
    () => NOW,
  );
  return { metrics, reads };
}

describe("a /metrics scrape and the outbox", () => {
  test("reads each lane once for both gauges, and again on the next scrape", async () => {
    let depth = 120_000;
    const { metrics, reads } = metricsWith((lane) => (lane === "telegram" ? { depth, oldestCreatedAt: new Date(NOW - 90_000) } : { depth: 0, oldestCreatedAt: null }));

    const first = parseSamples((await metrics.exposition()).body);
    expect([...reads].sort()).toEqual(["desk", "push", "telegram"]);
    expect(sampleValue(first, "outbox_jobs", { lane: "telegram" })).toBe(120_000);
    expect(sampleValue(first, "outbox_oldest_job_age_seconds", { lane: "telegram" })).toBe(90);
    expect(sampleValue(first, "outbox_oldest_job_age_seconds", { lane: "push" })).toBe(0);

    depth = 5;
    const second = parseSamples((await metrics.exposition()).body);
    expect(reads).toHaveLength(6);
    expect(sampleValue(second, "outbox_jobs", { lane: "telegram" })).toBe(5);
  });

  test("a failed read fails that scrape only; the next one reads again", async () => {
    let broken = true;
    const { metrics } = metricsWith(() => {
      if (broken) throw new Error("database is locked");
      return { depth: 2, oldestCreatedAt: new Date(NOW - 1_000) };
    });
    await expect(metrics.exposition()).rejects.toThrow(/database is locked/);
    broken = false;
    const samples = parseSamples((await metrics.exposition()).body);
    expect(sampleValue(samples, "outbox_jobs", { lane: "desk" })).toBe(2);
  });
});
