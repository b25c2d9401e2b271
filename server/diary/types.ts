// Shapes that leave the Speaking Diary API (SPEC §5). Every record reaches a
// client through the mappers in users.ts and notes.ts, never as a Prisma row,
// so internal columns (token hashes, foreign keys) cannot leak.

/** A Telegram user as the Mini App sees it; `id` is Telegram's user id. */
export interface DiaryUserView {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** One diary note; times are ISO 8601 in UTC. */
export interface NoteView {
  id: number;
  text: string;
  created_at: string;
  updated_at: string;
}

/** The Telegram user fields we keep (from initData's `user` or an Update's `from`). */
export interface TelegramUserInput {
  id: number;
  first_name: string;
  last_name?: string | null;
  username?: string | null;
  language_code?: string | null;
}
