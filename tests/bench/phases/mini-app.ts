// The Mini App: the JavaScript the `/` page loads (every <script src> of its
// HTML, each gzipped with zlib's default level, summed), and the time until
// a note is on screen in Chromium with the CPU slowed 4× (CDP
// Emulation.setCPUThrottlingRate), opened as Telegram opens it: signed
// initData and theme params in the URL hash. Every run uses a new browser
// context (cold cache); the time is taken inside the page, from navigation
// start to the first visible note, by a MutationObserver installed before
// any of the app's code runs.
import { randomInt } from "node:crypto";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, devices } from "@playwright/test";
import { launchHash } from "../../../app/dev/launch/presets.js";
import { ms, type BenchContext, type Row } from "../lib/context.js";
import { signInitData } from "../../../server/diary/init-data.js";
import type { ServerProcess } from "../lib/processes.js";
import { median } from "../lib/stats.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
const NOTES = 5;


interface FirstLoad {
  gzipBytes: number;
  rawBytes: number;
  scripts: { src: string; rawBytes: number; gzipBytes: number }[];
}

async function firstLoadJs(app: ServerProcess): Promise<FirstLoad> {
  const html = await (await fetch(`${app.url}/`)).text();
  // noModule scripts (Next's legacy polyfills) are skipped by every browser that runs modules.
  const tags = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]).filter((tag) => !/\bnomodule\b/i.test(tag));
  const sources = [...new Set(tags.map((tag) => /\bsrc="([^"]+)"/.exec(tag)?.[1]).filter((src): src is string => Boolean(src)))];
  const scripts: { src: string; rawBytes: number; gzipBytes: number }[] = [];
  for (const src of sources) {
    const bytes = Buffer.from(await (await fetch(new URL(src.replace(/&amp;/g, "&"), app.url))).arrayBuffer());
    scripts.push({ src, rawBytes: bytes.length, gzipBytes: gzipSync(bytes).length });
  }
  scripts.sort((a, b) => b.gzipBytes - a.gzipBytes);
  const sum = (key: "rawBytes" | "gzipBytes") => scripts.reduce((n, s) => n + s[key], 0);
  return { gzipBytes: sum("gzipBytes"), rawBytes: sum("rawBytes"), scripts };
}

async function seedNotes(app: ServerProcess, initData: string): Promise<void> {
  for (let i = 0; i < NOTES; i++) {
    const res = await fetch(`${app.url}/api/trpc/notes.create`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `tma ${initData}` },
      body: JSON.stringify({ text: `Bench note ${i + 1}: talked for ten minutes without pauses.` }),
    });
    if (!res.ok) throw new Error(`notes.create answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
}

const OBSERVER = `
  window.__notesVisibleAt = null;
  const check = () => {
    if (window.__notesVisibleAt !== null) return;
    const note = document.querySelector('[data-testid="note"]');
    if (!note) return;
    const box = note.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && getComputedStyle(note).visibility !== "hidden") window.__notesVisibleAt = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
`;

/** Milestones of one load, in ms since navigation start (null: did not happen). */
interface PageTiming {
  visible: number | null;
  html: number | null;
  scriptsLoaded: number | null;
  domContentLoaded: number | null;
  firstContentfulPaint: number | null;
  apiStart: number | null;
  apiEnd: number | null;
}

// Runs inside the page: Navigation, Resource and Paint Timing entries. Kept
// as source text because tsx's transform adds helpers (__name) to compiled
// functions that do not exist in the page.
const READ_TIMING = `(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const scripts = resources.filter((r) => r.initiatorType === "script" || r.name.endsWith(".js"));
  const api = resources.filter((r) => r.name.includes("/api/trpc"));
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    visible: window.__notesVisibleAt,
    html: nav ? nav.responseEnd : null,
    scriptsLoaded: scripts.length ? Math.max(...scripts.map((r) => r.responseEnd)) : null,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
    firstContentfulPaint: fcp ? fcp.startTime : null,
    apiStart: api.length ? Math.min(...api.map((r) => r.startTime)) : null,
    apiEnd: api.length ? Math.max(...api.map((r) => r.responseEnd)) : null,
  };
})()`;

export async function miniAppPhase(ctx: BenchContext, app: ServerProcess): Promise<Row[]> {
  ctx.progress("mini app: first-load JavaScript");
  const js = await firstLoadJs(app);
  const kb = js.gzipBytes / 1024;
  ctx.progress(`  ${js.scripts.length} scripts, ${kb.toFixed(1)} KB gzip (${(js.rawBytes / 1024).toFixed(0)} KB raw): ${js.scripts.map((s) => `${path.basename(s.src)} ${(s.gzipBytes / 1024).toFixed(1)}`).join(", ")}`);
  const rows: Row[] = [
    {
      id: "mini_app_js",
      group: "Mini App",
      metric: `first-load JS of / (${js.scripts.length} scripts, gzip)`,
      target: "≤120 KB",
      measured: `${kb.toFixed(1)} KB gzip (${(js.rawBytes / 1024).toFixed(0)} KB raw)`,
      pass: kb <= 120,
      data: { ...js },
    },
  ];

  ctx.progress("mini app: notes visible in Chromium at 4× CPU slowdown");
  const user = { id: randomInt(1_000_000, 2 ** 31 - 1), first_name: "Bench", language_code: "en" };
  const initData = signInitData({ auth_date: String(Math.floor(Date.now() / 1000)), query_id: `AAE${user.id}`, user: JSON.stringify(user) }, ctx.standIn.token);
  await seedNotes(app, initData);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const times: number[] = [];
  const timings: PageTiming[] = [];
  try {
    // The first load is not counted: it warms the server's page and chunk caches.
    for (let run = -1; run < ctx.settings.browserRuns; run++) {
      const context = await browser.newContext({ ...devices["Pixel 7"] });
      try {
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
        await page.addInitScript(OBSERVER);
        await page.goto(`${app.url}/${launchHash(initData, "light")}`);
        await page.getByTestId("note").first().waitFor({ state: "visible", timeout: 30_000 });
        const timing = (await page.evaluate(READ_TIMING)) as PageTiming;
        if (run >= 0 && timing.visible !== null) {
          times.push(timing.visible);
          timings.push(timing);
        }
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  const typical = median(times);
  const mid = (pick: (t: PageTiming) => number | null) => median(timings.map(pick).filter((v): v is number => v !== null));
  const phases = {
    htmlMs: mid((t) => t.html),
    scriptsLoadedMs: mid((t) => t.scriptsLoaded),
    domContentLoadedMs: mid((t) => t.domContentLoaded),
    firstPaintMs: mid((t) => t.firstContentfulPaint),
    apiStartMs: mid((t) => t.apiStart),
    apiEndMs: mid((t) => t.apiEnd),
    visibleMs: typical,
  };
  ctx.progress(`  notes visible after ${times.map((t) => ms(t)).join(", ")} ms`);
  ctx.progress(
    `  median timeline: HTML ${ms(phases.htmlMs)} · scripts loaded ${ms(phases.scriptsLoadedMs)} · DOMContentLoaded ${ms(phases.domContentLoadedMs)} · first paint ${ms(phases.firstPaintMs)} · API call ${ms(phases.apiStartMs)}→${ms(phases.apiEndMs)} · note visible ${ms(typical)} ms`,
  );
  rows.push({
    id: "notes_visible",
    group: "Mini App",
    metric: `notes visible, 4× CPU slowdown (median of ${times.length} cold loads)`,
    target: "≤1 s",
    measured: `${ms(typical)} ms (runs: ${times.map((t) => ms(t)).join(", ")}; scripts loaded ${ms(phases.scriptsLoadedMs)}, API ${ms(phases.apiStartMs)}→${ms(phases.apiEndMs)} ms)`,
    pass: typical <= 1000 && times.length === ctx.settings.browserRuns,
    data: { medianMs: typical, runsMs: times, medianTimeline: phases, runs: timings },
  });
  return rows;
}
