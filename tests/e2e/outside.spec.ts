// Outside Telegram, and the /start button's ?session= link.
import { expect, test } from "@playwright/test";
import { notes, snap } from "./support/app";
import { initDataFor, newUser } from "./support/launch";

test("a plain browser without a session is told how to open the diary", async ({ page }, info) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/Telegram/);
  await expect(page.getByText("/start")).toBeVisible();
  await expect(page.getByTestId("note")).toHaveCount(0);
  await snap(page, info, "10-outside-telegram");
});

test("outside Telegram the page follows the browser's dark preference", async ({ page }, info) => {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/Telegram/);
  await expect(page.locator("body")).toHaveCSS("background-color", "rgb(14, 22, 33)");
  await snap(page, info, "12-outside-telegram-dark");
});

test("an unknown session token is refused and the page says how to get a new one", async ({ page }) => {
  await page.goto("/?session=not-a-real-token");
  await expect(page.getByText(/expired|устарела/)).toBeVisible();
  await expect(page.getByText("/start")).toBeVisible();
});

test("the /start button's ?session= link opens the user's diary without initData", async ({ page, request }, info) => {
  const user = newUser({ first_name: "Sam", language_code: "en" });
  const auth = { Authorization: `tma ${initDataFor(user)}` };
  // What the bot does on /start: a session for this Telegram user.
  const started = await request.post("/api/trpc/session.start", { headers: auth, data: {} });
  expect(started.ok()).toBeTruthy();
  const { token } = ((await started.json()) as { result: { data: { token: string } } }).result.data;
  const created = await request.post("/api/trpc/notes.create", { headers: auth, data: { text: "Written from Telegram" } });
  expect(created.ok()).toBeTruthy();

  await page.goto(`/?session=${encodeURIComponent(token)}&v=1`);
  await expect(notes(page)).toHaveText([/Written from Telegram/]);
  await expect(page.getByText("Hi, Sam!")).toBeVisible();
  await snap(page, info, "11-session-link");
});

test("the development launcher does not exist in a production build", async ({ request }) => {
  test.skip(Boolean(process.env.E2E_BASE_URL), "a dev server has it on purpose");
  const res = await request.get("/dev/launch?user=42", { maxRedirects: 0 });
  expect(res.status()).toBe(404);
});
