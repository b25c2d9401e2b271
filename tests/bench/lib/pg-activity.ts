// Where PostgreSQL's sessions spend a load cell: pg_stat_activity of one
// database sampled every few tens of milliseconds, each non-idle session
// tallied by what it is doing (running, waiting on a lock and which kind,
// idle in a transaction = waiting for the service's next statement). A
// cluster that does not scale shows here whether its requests queue on a
// lock or on the instances' CPU.
import pg from "pg";

export interface ActivitySummary {
  /** samples taken, and those with at least one busy session */
  samples: number;
  busySamples: number;
  /** mean number of sessions per busy sample in each state, largest first */
  states: { state: string; mean: number }[];
  /** why sampling stopped early, if it did */
  failure?: string;
}

const QUERY = `
  SELECT CASE
           WHEN state = 'active' AND wait_event_type IS NULL THEN 'running'
           WHEN state = 'active' THEN wait_event_type || ':' || wait_event
           ELSE state
         END AS what, count(*)::int AS n
    FROM pg_stat_activity
   WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'
   GROUP BY 1`;

export interface ActivitySampler {
  stop(): Promise<ActivitySummary>;
}

export async function sampleActivity(databaseUrl: string, intervalMs = 25): Promise<ActivitySampler> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const totals = new Map<string, number>();
  let samples = 0;
  let busySamples = 0;
  let running = true;
  let failure: string | null = null;
  // A diagnostic: a failed sample ends the sampling (the summary says so), never the run.
  client.on("error", () => undefined);
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ what: string; n: number }>(QUERY);
      samples++;
      if (rows.length) busySamples++;
      for (const row of rows) totals.set(row.what, (totals.get(row.what) ?? 0) + row.n);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })().catch((error: unknown) => {
    failure = error instanceof Error ? error.message : String(error);
  });
  return {
    async stop() {
      running = false;
      await loop;
      await client.end().catch(() => undefined);
      const states = [...totals.entries()].map(([state, n]) => ({ state, mean: busySamples ? n / busySamples : 0 })).sort((x, y) => y.mean - x.mean);
      return { samples, busySamples, states, ...(failure ? { failure } : {}) };
    },
  };
}

export const describeActivity = (a: ActivitySummary) =>
  (a.busySamples ? a.states.map((s) => `${s.state} ${s.mean.toFixed(1)}`).join(", ") : "no busy session seen") + (a.failure ? ` (sampling stopped: ${a.failure})` : "");
