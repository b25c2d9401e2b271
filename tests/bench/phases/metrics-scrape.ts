// What scraping /metrics costs the hot path: POST /send_message at c = 16
// with nobody scraping, and with a scraper asking GET /metrics every
// second (15 to 60 times as often as Prometheus's usual 15-60 s interval,
// so the cost is visible at all). The two run on the same service process
// in alternating rounds (quiet, scraped, quiet, scraped, ...), so noise of
// the shared machine lands on both. Target: scraping costs less than 5 %
// of the throughput.
import { ms, rate, type BenchContext, type Row } from "../lib/context.js";
import { LoadSession, type LoadResult, type LoadTarget } from "../lib/load.js";

const CONCURRENCY = 16;
const SCRAPE_EVERY_MS = 1_000;
const USERS = 5_000;
const TARGET_COST = 0.05;

function target(port: number): LoadTarget {
  return {
    port,
    request: (i) => ({ method: "POST", path: "/send_message", body: JSON.stringify({ user_id: `metrics-${i % USERS}`, user_name: "Bench User", message: `Bench message ${i}` }) }),
    accept: (status, answer) => status === 200 && answer.includes('"success":true'),
  };
}

/** Scrapes `url` every SCRAPE_EVERY_MS (one at a time) until stopped; resolves to the scrape durations. */
function startScraper(url: string): { stop(): Promise<{ durations: number[]; bytes: number; errors: number }> } {
  const durations: number[] = [];
  let bytes = 0;
  let errors = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      try {
        const response = await fetch(url);
        const body = await response.text();
        if (response.status !== 200) errors++;
        bytes = body.length;
        durations.push(performance.now() - started);
      } catch {
        errors++;
      }
      const wait = SCRAPE_EVERY_MS - (performance.now() - started);
      if (!stopped && wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { durations, bytes, errors };
    },
  };
}

export async function metricsScrapePhase(ctx: BenchContext): Promise<Row[]> {
  ctx.progress("metrics: starting the service");
  const app = await ctx.startApp("metrics");
  const quiet = new LoadSession(target(app.port), CONCURRENCY);
  const scraped = new LoadSession(target(app.port), CONCURRENCY);
  const scrapes: number[] = [];
  let scrapeBytes = 0;
  let scrapeErrors = 0;
  try {
    const { warmupMs, cellMs } = ctx.settings;
    // More, shorter rounds than the other cells: a 5 % difference is small next to the machine's noise.
    const rounds = ctx.settings.quick ? 2 : 6;
    await quiet.run(warmupMs, false);
    await scraped.run(warmupMs, false);
    for (let round = 0; round < rounds; round++) {
      await quiet.run(cellMs / 2, true);
      const scraper = startScraper(`${app.url}/metrics`);
      await scraped.run(cellMs / 2, true);
      const seen = await scraper.stop();
      scrapes.push(...seen.durations);
      scrapeBytes = seen.bytes;
      scrapeErrors += seen.errors;
    }
  } finally {
    quiet.close();
    scraped.close();
    await app.stop();
  }
  const without: LoadResult = quiet.result();
  const withScrape: LoadResult = scraped.result();
  const ratio = withScrape.rps / without.rps;
  const cost = 1 - ratio;
  const sorted = [...scrapes].sort((a, b) => a - b);
  const scrapeP50 = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const scrapeMax = sorted.at(-1) ?? NaN;
  ctx.progress(
    `  /send_message c=${CONCURRENCY}: ${rate(without.rps)} req/s without scraping, ${rate(withScrape.rps)} req/s with /metrics every ${SCRAPE_EVERY_MS} ms ` +
      `(cost ${(cost * 100).toFixed(1)} %); ${scrapes.length} scrapes, p50 ${ms(scrapeP50)} ms, max ${ms(scrapeMax)} ms, ${Math.round(scrapeBytes / 1024)} KiB`,
  );
  return [
    {
      id: "metrics.scrape_cost.c16",
      group: "GET /metrics",
      metric: `/send_message c=${CONCURRENCY}, scraped every ${SCRAPE_EVERY_MS / 1000} s vs not`,
      target: `cost <${TARGET_COST * 100} % of throughput`,
      measured: `${rate(withScrape.rps)} req/s scraped · ${rate(without.rps)} req/s quiet · cost ${(cost * 100).toFixed(1)} % · scrape p50 ${ms(scrapeP50)} ms`,
      ratio,
      pass: cost < TARGET_COST && without.errors === 0 && withScrape.errors === 0 && scrapeErrors === 0,
      data: { without, withScrape, scrapes: scrapes.length, scrapeP50Ms: scrapeP50, scrapeMaxMs: scrapeMax, scrapeBytes, scrapeErrors, scrapeEveryMs: SCRAPE_EVERY_MS },
    },
  ];
}
