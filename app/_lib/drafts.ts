// What the user saved but the server does not have yet. A draft lives from
// the tap on Save until the server's answer: while it is saving, and after
// a failure for as long as it takes (the screen shows it with a retry).
// Drafts are laid over the server's list instead of being written into the
// query cache, so no refetch and no rollback can take the text away; and
// they are kept in localStorage, so a webview reload, or closing the app
// while offline, keeps them too (on the user's own device, per Telegram
// user). Only a save the server answered, or the user deleting the note,
// ends a draft.
import type { Note } from "./trpc";

/** "session": the server refused who we are (open the app again from the bot); anything else may pass on a retry. */
export type DraftFailure = "session" | "other";

export interface Draft {
  /** Local id, stable across reloads. */
  key: string;
  /** The note this changes; undefined for a new note. */
  noteId?: number;
  text: string;
  /** When Save was first tapped (ISO 8601): orders new notes in the list. */
  savedAt: string;
  /**
   * New notes: the highest note id the list had when it was first sent.
   * If the answer to a create was lost, the note may exist all the same; a
   * retry looks for it above this id before creating it again.
   */
  afterId: number;
  /** A request was sent for it at least once. */
  sent: boolean;
  state: "saving" | "failed";
  failure?: DraftFailure;
}

function load(storageKey: string): Draft[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(storageKey) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter((d: Partial<Draft>) => typeof d?.key === "string" && typeof d.text === "string" && typeof d.savedAt === "string")
      .map((d: Draft) => (d.state === "saving" ? { ...d, state: "failed", failure: "other" } : d));
  } catch {
    return [];
  }
}

/** A small external store (useSyncExternalStore) of one user's drafts. */
export class DraftStore {
  private drafts: readonly Draft[];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly storageKey: string) {
    // A draft still "saving" in storage lost its page mid-request: whether
    // it arrived is unknown, so it waits for a retry like any failure.
    this.drafts = typeof window === "undefined" ? [] : load(storageKey);
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly all = (): readonly Draft[] => this.drafts;

  get(key: string): Draft | undefined {
    return this.drafts.find((d) => d.key === key);
  }

  /** Adds the draft or replaces the one with its key. */
  put(draft: Draft): void {
    this.set([...this.drafts.filter((d) => d.key !== draft.key), draft]);
  }

  patch(key: string, change: Partial<Draft>): void {
    this.set(this.drafts.map((d) => (d.key === key ? { ...d, ...change } : d)));
  }

  remove(key: string): void {
    this.set(this.drafts.filter((d) => d.key !== key));
  }

  private set(drafts: readonly Draft[]): void {
    this.drafts = drafts;
    try {
      if (drafts.length) localStorage.setItem(this.storageKey, JSON.stringify(drafts));
      else localStorage.removeItem(this.storageKey);
    } catch {
      // No storage (or full): the drafts still last as long as the page.
    }
    for (const listener of this.listeners) listener();
  }
}

export function newDraftKey(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** One card of the list: a note as the user should see it, with the draft that is changing it. */
export interface ListItem {
  key: string;
  note: Note;
  draft?: Draft;
}

/**
 * The server's notes with the drafts laid over them: new notes first
 * (newest first), changed notes with their draft text. A draft for a note
 * that is gone (deleted elsewhere) is shown as a new note, so its text
 * stays visible.
 */
export function withDrafts(notes: readonly Note[], drafts: readonly Draft[]): ListItem[] {
  const ids = new Set(notes.map((n) => n.id));
  const edits = new Map(drafts.filter((d) => d.noteId !== undefined && ids.has(d.noteId)).map((d) => [d.noteId, d]));
  const fresh = drafts
    .filter((d) => d.noteId === undefined || !ids.has(d.noteId))
    .sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0))
    .map((d, i): ListItem => ({ key: `draft-${d.key}`, note: { id: -(i + 1), text: d.text, created_at: d.savedAt, updated_at: d.savedAt }, draft: d }));
  const known = notes.map((n): ListItem => {
    const draft = edits.get(n.id);
    return draft ? { key: String(n.id), note: { ...n, text: draft.text }, draft } : { key: String(n.id), note: n };
  });
  return [...fresh, ...known];
}
