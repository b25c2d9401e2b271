import { expect, test } from "@playwright/test";
import { initDataFor, launchUrl, newUser } from "./support/launch";

test("probe", async ({ page, request }) => {
  const user = newUser();
  const auth = { Authorization: `tma ${initDataFor(user)}` };
  for (let i = 1; i <= 5; i++) await request.post("/api/trpc/notes.create", { headers: auth, data: { text: `Note ${i}` } });
  const rows: string[] = [];
  for (let run = 0; run < 6; run++) {
    const ctx = await page.context().browser()!.newContext({ viewport: { width: 412, height: 915 } });
    const p = await ctx.newPage();
    const cdp = await ctx.newCDPSession(p);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await p.addInitScript(() => {
      const w = window as unknown as Record<string, number>;
      new MutationObserver(() => {
        if (!w.pre && document.querySelector("diary-prepaint")) w.pre = performance.now();
        if (!w.live && document.querySelector(".app [data-testid=note]") && !document.querySelector("diary-prepaint")) w.live = performance.now();
        if (!w.hyd && document.querySelector(".app header h1")) w.hyd = performance.now();
      }).observe(document, { childList: true, subtree: true });
    });
    await p.goto(launchUrl(user));
    await expect(p.locator(".app [data-testid=note]")).toHaveCount(5);
    await p.waitForTimeout(200);
    const t = await p.evaluate(() => {
      const w = window as unknown as Record<string, number>;
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      const api = performance.getEntriesByType("resource").filter((r) => r.name.includes("/api/trpc"));
      const js = performance.getEntriesByType("resource").filter((r) => r.name.endsWith(".js"));
      return { pre: w.pre, live: w.live, dcl: nav.domContentLoadedEventEnd, api: api.map((a) => Math.round(a.responseEnd)).join("/"), js: Math.round(Math.max(...js.map((r) => r.responseEnd))), njs: js.length };
    });
    if (run > 0) rows.push(JSON.stringify(t, (_k, v) => (typeof v === "number" ? Math.round(v) : v)));
    await ctx.close();
  }
  console.log(rows.join("\n"));
});
