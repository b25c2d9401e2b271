// The app's side of the contract with the inline boot script
// (boot/main.ts): take its early notes.list answer and the session token it
// took out of the URL, and take over from its static copy of the list once
// React shows the same notes.
import type { Note } from "./trpc";

/** Tag of the boot script's static list; globals.css hides the app behind it. */
export const PREPAINT_TAG = "diary-prepaint";

/** Where the session token from ?session= is kept for the tab (credentials.ts reads it). */
export const SESSION_TOKEN_KEY = "diary.session";

interface Prefetch {
  header: string;
  data: Promise<unknown>;
}

declare global {
  interface Window {
    __diaryNotes?: Prefetch;
    /** Set once React shows the list: a late boot-script answer must not paint over it. */
    __diaryLive?: boolean;
    /** The ?session= token the boot script took out of the URL (also when sessionStorage is unavailable). */
    __diarySession?: string;
  }
}

/**
 * The boot script's notes.list answer, once, if it was made with exactly
 * these credentials and succeeded; otherwise undefined.
 */
export async function takePrefetchedNotes(header: string): Promise<Note[] | undefined> {
  const prefetch = window.__diaryNotes;
  window.__diaryNotes = undefined;
  if (!prefetch || prefetch.header !== header) return undefined;
  const body = await prefetch.data;
  // tRPC's batch answer: [{ result: { data: Note[] } }]
  const data: unknown = Array.isArray(body) ? (body[0] as { result?: { data?: unknown } } | undefined)?.result?.data : undefined;
  return Array.isArray(data) ? (data as Note[]) : undefined;
}

/**
 * Removes the static list. Call it in a layout effect of the commit that
 * renders the real screen, so both swap within one frame (no flash).
 */
export function endPrepaint(): void {
  window.__diaryLive = true;
  document.querySelector(PREPAINT_TAG)?.remove();
}
