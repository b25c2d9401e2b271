// The pages' security headers: a Content-Security-Policy that lets only our
// own scripts run (the inline boot script by its hash), and no referrer or
// device permissions for a page that can carry a session token in its URL.
import { createHash } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createNote, notes } from "./support/app";
import { initDataFor, launchUrl, newUser } from "./support/launch";

/** Every CSP violation, console error and header complaint of the page, from its first script on. */
async function watchForViolations(page: Page): Promise<string[]> {
  const problems: string[] = [];
  await page.exposeFunction("__reportViolation", (text: string) => problems.push(`violation: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      void (window as unknown as { __reportViolation(t: string): Promise<void> }).__reportViolation(`${e.effectiveDirective} ${e.blockedURI} ${e.sample}`);
    });
  });
  page.on("console", (m) => {
    // Chromium reports a header it cannot parse (e.g. an unknown Permissions-Policy feature) as a warning.
    if (m.type() === "error" || (m.type() === "warning" && /Permissions-Policy|Content Security Policy|Referrer Policy/i.test(m.text()))) problems.push(`console: ${m.text()}`);
  });
  return problems;
}

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name as string, values]),
  );
}

test("the page's CSP allows the boot script by its hash and blocks inline code; nothing of ours is blocked", async ({ page, browser }) => {
  const user = newUser();
  const headers = { Authorization: `tma ${initDataFor(user)}` };
  expect((await page.request.post("/api/trpc/notes.create", { headers, data: { text: "Seeded before launch" } })).ok()).toBeTruthy();
  const problems = await watchForViolations(page);

  const res = await page.goto(launchUrl(user));
  const csp = res?.headers()["content-security-policy"] ?? "";
  expect(csp).not.toBe("");
  const policy = directives(csp);
  const scriptSrc = policy.get("script-src") ?? [];
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  expect(scriptSrc).not.toContain("'unsafe-eval'");
  expect(policy.get("object-src")).toEqual(["'none'"]);
  // Telegram Web (web.telegram.org/k, /a) shows Mini Apps in an iframe.
  expect(policy.get("frame-ancestors")?.some((s) => s === "https://web.telegram.org" || s === "https://*.telegram.org")).toBe(true);

  // The boot script, exactly as the page carries it, is allowed by its hash.
  const boot = await page.evaluate(() => [...document.scripts].find((s) => !s.src && s.textContent?.includes("diary-prepaint"))?.textContent ?? "");
  expect(boot).not.toBe("");
  expect(scriptSrc).toContain(`'sha256-${createHash("sha256").update(boot, "utf8").digest("base64")}'`);

  // The app works under the policy: notes load, a new one saves.
  await expect(notes(page)).toHaveText([/Seeded before launch/]);
  await createNote(page, "Written under the CSP");
  expect(problems).toEqual([]);
  // The not-found page is Next's too, with its own inline scripts (its 404 is the one console error).
  const missing = await page.goto("/no-such-page");
  expect(missing?.headers()["content-security-policy"]).toBe(csp);
  await expect(page.getByText(/could not be found/i)).toBeVisible();
  expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]);

  // The boot script still runs and pre-paints: with every bundle blocked, only it can show the notes.
  const frozen = await browser.newPage();
  const frozenProblems: string[] = [];
  frozen.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) frozenProblems.push(m.text());
  });
  await frozen.route(/\/_next\/static\/.*\.js$/, (route) => route.abort());
  await frozen.goto(launchUrl(user));
  await expect(frozen.locator("diary-prepaint").getByTestId("note")).toHaveCount(2);
  expect(frozenProblems).toEqual([]);

  // An injected inline script is refused: the policy really is enforced.
  const injected = await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__injected = true";
    document.head.appendChild(s);
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(injected).toBe(false);
  await frozen.close();
});

test("pages send Referrer-Policy, Permissions-Policy and nosniff", async ({ request }) => {
  for (const path of ["/", "/?session=abc"]) {
    const res = await request.get(path);
    const h = res.headers();
    expect(h["referrer-policy"]).toBe("no-referrer");
    const permissions = h["permissions-policy"] ?? "";
    for (const feature of ["camera", "microphone", "geolocation"]) expect(permissions).toContain(`${feature}=()`);
    expect(h["x-content-type-options"]).toBe("nosniff");
    expect(h["x-frame-options"]).toBeUndefined();
  }
});
