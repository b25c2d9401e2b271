// Page helpers shared by the specs: the list, the editor, screenshots.
import { expect, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";

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

/** A tRPC batch answer in which every call failed with this code, as the server sends it. */
export function trpcErrorBody(code: string, httpStatus: number, message: string): string {
  return JSON.stringify([{ error: { message, code: code === "UNAUTHORIZED" ? -32001 : -32603, data: { code, httpStatus } } }]);
}

/** What /start does: a session token for this user, made with fresh initData. */
export async function startSession(request: APIRequestContext, initData: string): Promise<string> {
  const res = await request.post("/api/trpc/session.start", { headers: { Authorization: `tma ${initData}` }, data: {} });
  expect(res.ok()).toBeTruthy();
  return ((await res.json()) as { result: { data: { token: string } } }).result.data.token;
}

/** The user's notes as the server has them (the seed-2 REST route), oldest first. */
export async function serverNotes(request: APIRequestContext, token: string): Promise<string[]> {
  const res = await request.get("/api/telegram/notes", { headers: { "X-Session-Token": token } });
  expect(res.ok()).toBeTruthy();
  return ((await res.json()) as { notes: { text: string }[] }).notes.map((n) => n.text);
}
