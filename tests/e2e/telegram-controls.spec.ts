// Inside a Telegram client: the app drives Telegram's MainButton,
// BackButton, popup and haptics instead of rendering its own controls.
import { expect, test } from "@playwright/test";
import { notes } from "./support/app";
import { launchUrl, newUser } from "./support/launch";
import { installTelegramClient, lastPosted, posted, sendTelegramEvent } from "./support/telegram-client";

test("MainButton, BackButton, popup confirmation and haptics", async ({ page }) => {
  await installTelegramClient(page);
  await page.goto(launchUrl(newUser({ language_code: "en" })));
  await expect(page.getByRole("heading", { name: "No notes yet" })).toBeVisible();

  // Ready, expanded, chrome painted in the theme; no in-page action button.
  const names = (await posted(page)).map((e) => e.name);
  expect(names).toEqual(expect.arrayContaining(["web_app_ready", "web_app_expand", "web_app_request_viewport", "web_app_request_safe_area", "web_app_set_header_color"]));
  await expect(page.getByRole("button", { name: "New note" })).toHaveCount(0);
  await expect.poll(() => lastPosted(page, "web_app_setup_main_button")).toMatchObject({ is_visible: true, text: "New note", color: "#40a7e3" });

  // MainButton → editor with Telegram's BackButton; Save is disabled until there is text.
  await sendTelegramEvent(page, "main_button_pressed");
  await expect(page.getByLabel("Note text")).toBeFocused();
  await expect.poll(() => lastPosted(page, "web_app_setup_back_button")).toEqual({ is_visible: true });
  await expect.poll(() => lastPosted(page, "web_app_setup_main_button")).toMatchObject({ text: "Save", is_active: false });
  await expect(page.getByRole("button", { name: /Back/ })).toHaveCount(0);

  await page.getByLabel("Note text").fill("Typed inside Telegram");
  await expect.poll(() => lastPosted(page, "web_app_setup_main_button")).toMatchObject({ text: "Save", is_active: true });
  await expect.poll(() => lastPosted(page, "web_app_setup_closing_behavior")).toEqual({ need_confirmation: true });
  await sendTelegramEvent(page, "main_button_pressed");
  await expect(notes(page)).toHaveText([/Typed inside Telegram/]);
  await expect.poll(() => lastPosted(page, "web_app_setup_back_button")).toEqual({ is_visible: false });
  await expect.poll(async () => (await posted(page, "web_app_trigger_haptic_feedback")).map((e) => e.data)).toContainEqual({ type: "notification", notification_type: "success" });

  // Delete goes through Telegram's popup; "cancel" keeps the note, "ok" deletes it.
  await notes(page).first().getByRole("button", { name: "Delete" }).click();
  await expect.poll(() => lastPosted(page, "web_app_open_popup")).toMatchObject({ title: "Delete this note?", buttons: [{ id: "ok", type: "destructive" }, { id: "cancel", type: "cancel" }] });
  await sendTelegramEvent(page, "popup_closed", { button_id: "cancel" });
  await expect(notes(page)).toHaveCount(1);

  await notes(page).first().getByRole("button", { name: "Delete" }).click();
  await expect.poll(async () => (await posted(page, "web_app_open_popup")).length).toBe(2);
  await sendTelegramEvent(page, "popup_closed", { button_id: "ok" });
  await expect(notes(page)).toHaveCount(0);

  // Theme switch at run time (the user turns on night mode).
  await sendTelegramEvent(page, "theme_changed", { theme_params: { bg_color: "#17212b", secondary_bg_color: "#232e3c", text_color: "#f5f5f5" } });
  await expect(page.locator("html")).toHaveAttribute("data-scheme", "dark");
  await expect(page.locator("body")).toHaveCSS("background-color", "rgb(35, 46, 60)");

  // Viewport and safe areas become CSS variables.
  await sendTelegramEvent(page, "viewport_changed", { height: 600, width: 400, is_expanded: true, is_state_stable: true });
  await sendTelegramEvent(page, "safe_area_changed", { top: 44, bottom: 34, left: 0, right: 0 });
  await sendTelegramEvent(page, "content_safe_area_changed", { top: 56, bottom: 0, left: 0, right: 0 });
  const vars = await page.evaluate(() => {
    const s = document.documentElement.style;
    return [s.getPropertyValue("--tg-viewport-stable-height"), s.getPropertyValue("--tg-safe-area-inset-top"), s.getPropertyValue("--tg-content-safe-area-inset-top")];
  });
  expect(vars).toEqual(["600px", "44px", "56px"]);
  // Header padding = safe area + content safe area + 12px.
  await expect(page.locator("header.top")).toHaveCSS("padding-top", "112px");
});
