// The session token as the Mini App's second credential: it stands in when
// Telegram's initData has expired (INITDATA_MAX_AGE_SECONDS, 24 h by
// default: a webview left open overnight, or reloaded), and it does not stay
// in the address bar, where it would end up in history and shared links.
import { expect, test } from "@playwright/test";
import { createNote, notes, serverNotes, startSession, trpcErrorBody } from "./support/app";
import { initDataFor, launchUrl, newUser } from "./support/launch";

const TWO_DAYS_AGO = () => new Date(Date.now() - 2 * 24 * 3600 * 1000);

test("a launch whose initData has expired still reads and saves with the session token", async ({ page, request }) => {
  const user = newUser({ first_name: "Sam" });
  const token = await startSession(request, initDataFor(user));
  // The /start button's URL (?session=) as Telegram opened it two days ago.
  await page.goto(launchUrl(user, "light", `?session=${encodeURIComponent(token)}`, TWO_DAYS_AGO()));

  await expect(page.getByRole("heading", { name: "No notes yet" })).toBeVisible();
  await createNote(page, "Saved although initData is two days old");
  await expect(notes(page).first().getByText("Not saved")).toHaveCount(0);
  expect(await serverNotes(request, token)).toEqual(["Saved although initData is two days old"]);

  // A reload of the webview keeps working: the token is kept for the tab.
  await page.reload();
  await expect(notes(page)).toHaveText([/two days old/]);
});

test("without ?session= the app gets a token with session.start and writes with it once initData expires", async ({ page, request }) => {
  const user = newUser();
  const started = page.waitForResponse((r) => r.url().includes("session.start") && r.ok(), { timeout: 10_000 });
  await page.goto(launchUrl(user));
  await expect(page.getByRole("heading", { name: "No notes yet" })).toBeVisible();
  await started;

  // From now on the server refuses this initData, exactly as it answers once
  // auth_date is older than INITDATA_MAX_AGE_SECONDS.
  const refused: string[] = [];
  await page.route(/\/api\/trpc\//, (route) => {
    if (!route.request().headers()["authorization"]?.startsWith("tma ")) return route.fallback();
    refused.push(route.request().url());
    return route.fulfill({ status: 401, contentType: "application/json", body: trpcErrorBody("UNAUTHORIZED", 401, "initData has expired; open the Mini App again") });
  });
  await createNote(page, "Written after initData expired");
  expect(refused.length).toBeGreaterThan(0);
  expect(await serverNotes(request, await startSession(request, initDataFor(user)))).toEqual(["Written after initData expired"]);
});

test("session= is taken out of the address bar once read, and the session still works", async ({ page, request }) => {
  const user = newUser({ first_name: "Sam" });
  const token = await startSession(request, initDataFor(user));
  await request.post("/api/telegram/notes", { headers: { "X-Session-Token": token }, data: { text: "From the bot's link" } });

  // A browser with only the link.
  await page.goto(`/?session=${encodeURIComponent(token)}&v=7`);
  await expect(notes(page)).toHaveText([/From the bot's link/]);
  let url = new URL(page.url());
  expect(url.searchParams.has("session")).toBe(false);
  expect(url.searchParams.get("v")).toBe("7");
  await page.reload();
  await expect(notes(page)).toHaveText([/From the bot's link/]);
  await createNote(page, "After the reload");

  // Inside Telegram: the launch hash stays as it was.
  const tg = await page.context().newPage();
  await tg.goto(launchUrl(user, "light", `?session=${encodeURIComponent(token)}&v=7`));
  await expect(notes(tg)).toHaveText([/After the reload/, /From the bot's link/]);
  url = new URL(tg.url());
  expect(url.search).toBe("?v=7");
  expect(new URLSearchParams(url.hash.slice(1)).get("tgWebAppData")).toContain("hash=");
});
