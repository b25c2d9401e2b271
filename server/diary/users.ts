// Diary users are keyed by their Telegram id. Names and language come from
// Telegram on every sign-in, so they follow the user's profile.
import type { Db } from "../db/database.js";
import type { DiaryUserView, TelegramUserInput } from "./types.js";

/** The columns a user view needs: the only ones ever read for a client. */
export const diaryUserSelect = {
  id: true,
  firstName: true,
  lastName: true,
  username: true,
  languageCode: true,
} as const;

export interface DiaryUserRow {
  id: bigint;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode: string | null;
}

export function toDiaryUserView(row: DiaryUserRow): DiaryUserView {
  // Telegram ids have at most 52 significant bits, so a JS number holds them exactly.
  const view: DiaryUserView = { id: Number(row.id), first_name: row.firstName };
  if (row.lastName) view.last_name = row.lastName;
  if (row.username) view.username = row.username;
  if (row.languageCode) view.language_code = row.languageCode;
  return view;
}

/**
 * Creates the user or refreshes their profile fields. Writes only when
 * something changed: initData authentication calls this on every request.
 */
export async function upsertDiaryUser(db: Db, user: TelegramUserInput): Promise<DiaryUserView> {
  const wanted = {
    firstName: user.first_name,
    lastName: user.last_name ?? null,
    username: user.username ?? null,
    languageCode: user.language_code ?? null,
  };
  const id = BigInt(user.id);
  const existing = await db.prisma.diaryUser.findUnique({ where: { id }, select: diaryUserSelect });
  if (
    existing &&
    existing.firstName === wanted.firstName &&
    existing.lastName === wanted.lastName &&
    existing.username === wanted.username &&
    existing.languageCode === wanted.languageCode
  ) {
    return toDiaryUserView(existing);
  }
  const row = await db.prisma.diaryUser.upsert({
    where: { id },
    create: { id, ...wanted },
    update: wanted,
    select: diaryUserSelect,
  });
  return toDiaryUserView(row);
}
