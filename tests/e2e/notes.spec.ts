// The diary in real Chromium, launched with signed Telegram launch params.
import { expect, test } from "@playwright/test";
import { createNote, notes, serverNotes, snap, startSession, trpcErrorBody } from "./support/app";
import { initDataFor, launchUrl, newUser } from "./support/launch";

test("create, edit and delete notes; they persist across a reload", async ({ page }, info) => {
  const user = newUser({ first_name: "Alice", language_code: "en" });
  await page.goto(launchUrl(user, "light"));

  await expect(page.getByRole("heading", { name: "No notes yet" })).toBeVisible();
  await expect(page.getByText("Hi, Alice!")).toBeVisible();
  await snap(page, info, "01-empty-light");

  await createNote(page, "First note: met the new team.");
  await createNote(page, "Second note\nwith two lines.");
  // Newest first.
  await expect(notes(page)).toHaveText([/Second note/, /First note/]);
  await snap(page, info, "02-two-notes-light");

  // Edit the older note.
  await notes(page).nth(1).getByRole("button", { name: "Edit" }).click();
  const field = page.getByLabel("Note text");
  await expect(field).toHaveValue("First note: met the new team.");
  await expect(field).toBeFocused();
  await field.fill("First note, edited: met the whole team.");
  await snap(page, info, "03-editor-light");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(notes(page).nth(1)).toContainText("First note, edited");
  await expect(notes(page).nth(1)).toContainText("edited");

  await page.reload();
  await expect(notes(page)).toHaveText([/Second note/, /First note, edited: met the whole team\./]);

  // Delete asks first; cancelling keeps the note.
  await notes(page).first().getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this note?" });
  await expect(dialog).toBeVisible();
  await snap(page, info, "04-confirm-delete-light");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(notes(page)).toHaveCount(2);

  await notes(page).first().getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(notes(page)).toHaveCount(1);

  await page.reload();
  await expect(notes(page)).toHaveText([/First note, edited/]);
});

test("a second user sees none of the first user's notes", async ({ browser }) => {
  const alice = newUser({ first_name: "Alice" });
  const bob = newUser({ first_name: "Bob" });

  const a = await browser.newPage();
  await a.goto(launchUrl(alice));
  await createNote(a, "Alice's private thought");

  const b = await browser.newPage();
  await b.goto(launchUrl(bob));
  await expect(b.getByRole("heading", { name: "No notes yet" })).toBeVisible();
  await expect(b.getByText("Alice's private thought")).toHaveCount(0);

  await createNote(b, "Bob's note");
  await a.reload();
  await expect(notes(a)).toHaveText([/Alice's private thought/]);
});

test("dark theme and Russian follow Telegram's launch params", async ({ page }, info) => {
  const user = newUser({ first_name: "Мария", language_code: "ru" });
  await page.goto(launchUrl(user, "dark"));
  await expect(page.getByRole("heading", { name: "Пока ни одной заметки" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("data-scheme", "dark");
  await expect(page.locator("html")).toHaveAttribute("lang", "ru");
  // secondary_bg_color of the dark preset, and its text colour.
  await expect(page.locator("body")).toHaveCSS("background-color", "rgb(35, 46, 60)");
  await expect(page.locator("body")).toHaveCSS("color", "rgb(245, 245, 245)");
  await snap(page, info, "05-empty-dark-ru");

  await createNote(page, "Сегодня говорил по-английски десять минут без пауз.", { newNote: "Новая заметка", save: "Сохранить", field: "Текст заметки" });
  await createNote(page, "Вторая заметка.", { newNote: "Новая заметка", save: "Сохранить", field: "Текст заметки" });
  await expect(page.getByText("Привет, Мария! 2 заметки")).toBeVisible();
  await snap(page, info, "06-notes-dark-ru");

  await page.getByRole("button", { name: "Новая заметка" }).click();
  await page.getByLabel("Текст заметки").fill("Черновик");
  await snap(page, info, "07-editor-dark-ru");
  // Leaving with unsaved text asks first.
  await page.getByRole("button", { name: /Назад/ }).click();
  await expect(page.getByRole("dialog", { name: "Выйти без сохранения?" })).toBeVisible();
  await snap(page, info, "08-discard-dark-ru");
  await page.getByRole("dialog").getByRole("button", { name: "Выйти" }).click();
  await expect(notes(page)).toHaveCount(2);
});

test("a new note the server fails to save stays on screen, survives a reload, and the retry saves it", async ({ page, request }, info) => {
  const user = newUser();
  await page.goto(launchUrl(user));
  await createNote(page, "This one is kept");

  // The server answers 500 to every create until it is back.
  let down = true;
  await page.route(/\/api\/trpc\/[^?]*notes\.create/, (route) =>
    down ? route.fulfill({ status: 500, contentType: "application/json", body: trpcErrorBody("INTERNAL_SERVER_ERROR", 500, "Internal server error") }) : route.fallback(),
  );
  const text = "Written while the server was down:\nevery word of it must survive.";
  await page.getByRole("button", { name: "New note" }).click();
  await page.getByLabel("Note text").fill(text);
  await page.getByRole("button", { name: "Save" }).click();

  const draft = notes(page).first();
  await expect(draft).toContainText("every word of it must survive.");
  await expect(draft.getByText("Not saved")).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "not saved" })).toBeVisible();
  await expect(notes(page)).toHaveCount(2);
  await snap(page, info, "09-save-failed-light");

  // A reload of the webview (or closing the app) does not lose it either.
  await page.reload();
  await expect(notes(page)).toHaveText([/every word of it must survive/, /This one is kept/]);
  await expect(notes(page).first().getByText("Not saved")).toBeVisible();

  down = false;
  await notes(page).first().getByRole("button", { name: "Try again" }).click();
  await expect(notes(page).first().getByText("Not saved")).toHaveCount(0);
  await expect(notes(page).first()).not.toHaveAttribute("data-pending");
  await page.reload();
  await expect(notes(page)).toHaveText([/every word of it must survive/, /This one is kept/]);
  // Saved once, with the text exactly as typed.
  const token = await startSession(request, initDataFor(user));
  expect(await serverNotes(request, token)).toEqual(["This one is kept", text]);
});

test("an edit that cannot reach the server keeps the new text, and the retry saves it (dark, Russian)", async ({ page }, info) => {
  const user = newUser({ first_name: "Мария", language_code: "ru" });
  const labels = { newNote: "Новая заметка", save: "Сохранить", field: "Текст заметки" };
  await page.goto(launchUrl(user, "dark"));
  await createNote(page, "Черновик мысли", labels);

  // The connection drops: every update fails on the network, with no answer at all.
  await page.route(/\/api\/trpc\/[^?]*notes\.update/, (route) => route.abort("internetdisconnected"));
  await notes(page).first().getByRole("button", { name: "Изменить" }).click();
  await page.getByLabel(labels.field).fill("Мысль, которую нельзя потерять");
  await page.getByRole("button", { name: labels.save }).click();

  const card = notes(page).first();
  await expect(card).toContainText("Мысль, которую нельзя потерять");
  await expect(card.getByText("Не сохранено")).toBeVisible();
  await snap(page, info, "09-save-failed-dark-ru");
  // Opening it again shows what was typed, not the server's old text.
  await card.getByRole("button", { name: "Изменить" }).click();
  await expect(page.getByLabel(labels.field)).toHaveValue("Мысль, которую нельзя потерять");
  await page.getByRole("button", { name: /Назад/ }).click();

  await page.unroute(/\/api\/trpc\/[^?]*notes\.update/);
  await notes(page).first().getByRole("button", { name: "Повторить" }).click();
  await expect(notes(page).first().getByText("Не сохранено")).toHaveCount(0);
  await expect(notes(page).first()).not.toHaveAttribute("data-pending");
  await page.reload();
  await expect(notes(page)).toHaveText([/Мысль, которую нельзя потерять/]);
});
