// Input rules of the mobile API, shared by REST and Socket.IO edges.
import { z } from "zod";

export const USER_ID_MAX = 128;

/**
 * A user id as the mobile app sends it: a string or an integer, kept as a
 * string. Control characters and surrounding spaces are refused rather than
 * silently changed, so one user never becomes two.
 */
export const userIdSchema = z.union([z.string(), z.number()], { error: "user_id must be a string or a number" }).transform((value, ctx) => {
  const text = typeof value === "number" ? (Number.isSafeInteger(value) ? String(value) : "") : value;
  if (text === "") {
    ctx.addIssue({ code: "custom", message: typeof value === "number" ? "user_id must be a whole number" : "user_id must not be empty" });
    return z.NEVER;
  }
  if (text.length > USER_ID_MAX) {
    ctx.addIssue({ code: "custom", message: `user_id must be at most ${USER_ID_MAX} characters` });
    return z.NEVER;
  }
  if (/[\u0000-\u001f\u007f/\\]/.test(text) || text.trim() !== text) {
    ctx.addIssue({ code: "custom", message: "user_id must not contain slashes, control characters or surrounding spaces" });
    return z.NEVER;
  }
  return text;
});

/**
 * Why a string from a client cannot be stored as text, or null when it can:
 * a lone UTF-16 surrogate ("\ud800" is valid JSON) is not text, and
 * PostgreSQL's text refuses the NUL character; either would otherwise fail
 * deep in a store as a 500 instead of a 400 naming the field.
 */
export function textProblem(value: string): string | null {
  if (!value.isWellFormed()) return "is not valid Unicode text";
  if (value.includes("\u0000")) return "must not contain the NUL character (\\u0000)";
  return null;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseUserId(value: unknown): ParseResult<string> {
  if (value === undefined || value === null) return { ok: false, error: "user_id is required" };
  const result = userIdSchema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: result.error.issues[0]?.message ?? "user_id is not valid" };
}

/** The first problem of a zod error as one readable sentence; `input` tells missing fields from wrong ones. */
export function describeZodError(error: z.ZodError, input?: unknown): string {
  const issue = error.issues[0];
  if (!issue) return "the request is not valid";
  const field = issue.path.join(".");
  if (field && input !== undefined && valueAt(input, issue.path) === undefined) return `${field} is required`;
  return field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
