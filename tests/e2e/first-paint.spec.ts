// The boot script paints the notes before React runs (app/_lib/boot/main.ts)
// with its own copy of the list screen's markup. These tests hold the copy
// to the real screen: pixel for pixel in both themes and languages, inside
// and outside a Telegram client, and inert until the app takes over.
import { expect, test, type Page } from "@playwright/test";
import { snap } from "./support/app";
import { initDataFor, launchUrl, newUser, type TestUser } from "./support/launch";
import { installTelegramClient } from "./support/telegram-client";
import type { ThemePreset } from "../../app/dev/launch/presets";

const PREPAINT = "diary-prepaint";

async function seed(page: Page, user: TestUser, texts: string[]): Promise<void> {
  const headers = { Authorization: `tma ${initDataFor(user)}` };
  let firstId = 0;
  for (const text of texts) {
    const res = await page.request.post("/api/trpc/notes.create", { headers, data: { text } });
    expect(res.ok()).toBeTruthy();
    firstId ||= ((await res.json()) as { result: { data: { id: number } } }).result.data.id;
  }
  // One edited note, so the "edited" mark is compared too.
  const res = await page.request.post("/api/trpc/notes.update", { headers, data: { id: firstId, text: `${texts[0]} (edited)` } });
  expect(res.ok()).toBeTruthy();
}

/** Pixels that differ between two PNG screenshots (count and bounding box), compared in the page's own canvas. */
async function pixelDiff(page: Page, a: Buffer, b: Buffer): Promise<string> {
  return page.evaluate(
    async ([x, y]) => {
      const load = async (b64: string) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = new OffscreenCanvas(img.width, img.height);
        const ctx = canvas.getContext("2d");
        if (!ctx) throw new Error("no 2d context");
        ctx.drawImage(img, 0, 0);
        return ctx.getImageData(0, 0, img.width, img.height);
      };
      const [p, q] = await Promise.all([load(x), load(y)]);
      if (p.width !== q.width || p.height !== q.height) return `sizes ${p.width}×${p.height} and ${q.width}×${q.height}`;
      let differing = 0;
      const box = { left: Infinity, top: Infinity, right: -1, bottom: -1 };
      for (let i = 0; i < p.data.length; i += 4) {
        if (p.data[i] === q.data[i] && p.data[i + 1] === q.data[i + 1] && p.data[i + 2] === q.data[i + 2]) continue;
        differing++;
        const x = (i / 4) % p.width;
        const y = Math.floor(i / 4 / p.width);
        box.left = Math.min(box.left, x);
        box.right = Math.max(box.right, x);
        box.top = Math.min(box.top, y);
        box.bottom = Math.max(box.bottom, y);
      }
      return differing === 0 ? "identical" : `${differing} pixels differ in x ${box.left}–${box.right}, y ${box.top}–${box.bottom}`;
    },
    [a.toString("base64"), b.toString("base64")] as const,
  );
}

const cases: { name: string; theme: ThemePreset; user: Partial<TestUser>; telegram: boolean }[] = [
  { name: "light-en", theme: "light", user: { first_name: "Alice", language_code: "en" }, telegram: false },
  { name: "dark-ru", theme: "dark", user: { first_name: "Мария", language_code: "ru" }, telegram: false },
  { name: "telegram-en", theme: "light", user: { first_name: "Bob", language_code: "en-GB" }, telegram: true },
];

for (const c of cases) {
  test(`the pre-rendered list looks exactly like the app's list (${c.name})`, async ({ page }, info) => {
    const user = newUser(c.user);
    await seed(page, user, ["First: a short one.", "Second, with <b>markup</b> that must stay text & two\nlines.", "Third: " + "long words ".repeat(30)]);

    // Without the app's JavaScript only the boot script's copy can show.
    const frozen = await page.context().newPage();
    if (c.telegram) await installTelegramClient(frozen);
    await frozen.route(/\/_next\/static\/.*\.js$/, (route) => route.abort());
    await frozen.goto(launchUrl(user, c.theme));
    await expect(frozen.locator(PREPAINT).getByTestId("note")).toHaveCount(3);
    await expect(frozen.locator(PREPAINT).getByText("<b>markup</b>", { exact: false })).toBeVisible();
    await expect(frozen.locator(PREPAINT).getByRole("button", { name: c.user.language_code === "ru" ? "Изменить" : "Edit" }).first()).toBeDisabled();
    const before = await frozen.screenshot({ fullPage: true });
    await snap(frozen, info, `first-paint-${c.name}-static`);

    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    if (c.telegram) await installTelegramClient(page);
    await page.goto(launchUrl(user, c.theme));
    await expect(page.locator(PREPAINT)).toHaveCount(0);
    await expect(page.getByTestId("note")).toHaveCount(3);
    await expect(page.getByTestId("note").first().getByRole("button").first()).toBeEnabled();
    const after = await page.screenshot({ fullPage: true });
    await snap(page, info, `first-paint-${c.name}-app`);

    expect(await pixelDiff(page, before, after)).toBe("identical");
    expect(await frozen.locator("html").getAttribute("lang")).toBe(await page.locator("html").getAttribute("lang"));
    // Hydration went through without a mismatch next to the inserted copy.
    expect(errors).toEqual([]);
    await frozen.close();
  });
}
