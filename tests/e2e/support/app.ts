// Page helpers shared by the specs: the list, the editor, screenshots.
import { expect, type Page, type TestInfo } from "@playwright/test";

export const notes = (page: Page) => page.getByTestId("note");

/** Saves a full-page screenshot in this test's folder under test-results/ (git-ignored). */
export async function snap(page: Page, info: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
}

export async function createNote(page: Page, text: string, labels = { newNote: "New note", save: "Save", field: "Note text" }): Promise<void> {
  await page.getByRole("button", { name: labels.newNote }).click();
  await page.getByLabel(labels.field).fill(text);
  await page.getByRole("button", { name: labels.save }).click();
  await expect(notes(page).first()).toContainText(text);
  // Settled: the optimistic copy has been replaced by the server's note.
  await expect(notes(page).first()).not.toHaveAttribute("data-pending");
}
