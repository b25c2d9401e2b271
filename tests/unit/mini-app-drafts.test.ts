// The Mini App's list as the user sees it: the server's notes with the
// unsaved drafts laid over them, so no text disappears from the screen.
import { expect, test } from "vitest";
import { withDrafts, type Draft } from "../../app/_lib/drafts";

const note = (id: number, text: string, at: string) => ({ id, text, created_at: at, updated_at: at });
const draft = (key: string, text: string, savedAt: string, noteId?: number): Draft => ({ key, noteId, text, savedAt, afterId: 0, sent: true, state: "failed", failure: "other" });

test("new drafts come first, newest first; a changed note shows its draft text in its place", () => {
  const notes = [note(2, "second", "2026-12-01T10:00:00Z"), note(1, "first", "2026-12-01T09:00:00Z")];
  const items = withDrafts(notes, [draft("a", "older draft", "2026-12-01T11:00:00Z"), draft("b", "newer draft", "2026-12-01T12:00:00Z"), draft("c", "first, changed", "2026-12-01T13:00:00Z", 1)]);
  expect(items.map((i) => i.note.text)).toEqual(["newer draft", "older draft", "second", "first, changed"]);
  expect(items.map((i) => i.draft?.key)).toEqual(["b", "a", undefined, "c"]);
  expect(items[3]?.note.id).toBe(1);
  // Local ids never collide with the server's.
  expect(items.slice(0, 2).every((i) => i.note.id < 0)).toBe(true);
  expect(new Set(items.map((i) => i.key)).size).toBe(4);
});

test("a draft for a note that is gone (deleted elsewhere, or the list did not load) still shows", () => {
  const items = withDrafts([], [draft("c", "changed text", "2026-12-01T13:00:00Z", 7)]);
  expect(items.map((i) => i.note.text)).toEqual(["changed text"]);
});
