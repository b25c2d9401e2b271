// Diary notes: each belongs to one Telegram user, who alone can see or
// change it. Someone else's note id is answered exactly like a missing one.
import { z } from "zod";
import type { Db } from "../db/database.js";
import { badRequest, notFound } from "../errors.js";
import type { NoteView } from "./types.js";
import { textProblem } from "../support/validation.js";

export const NOTE_TEXT_MAX = 4000;

/**
 * 1..4000 characters after trimming the ends (whitespace-only is empty).
 * Length is counted in UTF-16 code units, as the browser's maxlength and
 * Telegram count it, so the UI and the API agree.
 */
export const noteTextSchema = z
  .string({ error: "text must be a string" })
  .trim()
  .min(1, "text must not be empty")
  .max(NOTE_TEXT_MAX, `text must be at most ${NOTE_TEXT_MAX} characters`)
  .superRefine((value, ctx) => {
    const problem = textProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: `text ${problem}` });
  });

export const noteIdSchema = z.number({ error: "id must be a number" }).int("id must be a whole number").positive("id must be positive").max(2 ** 31 - 1, "id is out of range");

const noteSelect = { id: true, text: true, createdAt: true, updatedAt: true } as const;

interface NoteRow {
  id: number;
  text: string;
  createdAt: Date;
  updatedAt: Date;
}

export function toNoteView(row: NoteRow): NoteView {
  return {
    id: row.id,
    text: row.text,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function parseText(text: string): string {
  const parsed = noteTextSchema.safeParse(text);
  if (!parsed.success) throw badRequest(parsed.error.issues[0]?.message ?? "text is not valid");
  return parsed.data;
}

export interface UserScope {
  db: Db;
  /** Telegram id of the note owner */
  userId: number;
}

export type ListNotesOptions = UserScope & { order?: "newest" | "oldest" };

export async function listNotes({ db, userId, order = "newest" }: ListNotesOptions): Promise<NoteView[]> {
  const direction = order === "newest" ? "desc" : "asc";
  const rows = await db.prisma.note.findMany({
    where: { userId: BigInt(userId) },
    orderBy: [{ createdAt: direction }, { id: direction }],
    select: noteSelect,
  });
  return rows.map(toNoteView);
}

export type CreateNoteOptions = UserScope & { text: string; now?: Date };

/** The user row must exist (every authenticated caller has one). */
export async function createNote({ db, userId, text, now = new Date() }: CreateNoteOptions): Promise<NoteView> {
  const row = await db.prisma.note.create({
    data: { userId: BigInt(userId), text: parseText(text), createdAt: now, updatedAt: now },
    select: noteSelect,
  });
  return toNoteView(row);
}

export type UpdateNoteOptions = UserScope & { id: number; text: string; now?: Date };

export async function updateNote({ db, userId, id, text, now = new Date() }: UpdateNoteOptions): Promise<NoteView> {
  const clean = parseText(text);
  // Owner in the WHERE clause: another user's id matches nothing.
  const { count } = await db.prisma.note.updateMany({
    where: { id, userId: BigInt(userId) },
    data: { text: clean, updatedAt: now },
  });
  if (count === 0) throw notFound("note not found");
  const row = await db.prisma.note.findUnique({ where: { id }, select: noteSelect });
  if (!row) throw notFound("note not found");
  return toNoteView(row);
}

export type DeleteNoteOptions = UserScope & { id: number };

export async function deleteNote({ db, userId, id }: DeleteNoteOptions): Promise<{ id: number; deleted: true }> {
  const { count } = await db.prisma.note.deleteMany({ where: { id, userId: BigInt(userId) } });
  if (count === 0) throw notFound("note not found");
  return { id, deleted: true };
}
