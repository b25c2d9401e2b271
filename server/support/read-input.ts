// Input of mark_read (SPEC §7), shared by `POST /mark_read` and the socket's
// `mark_read` event: the user and the newest message id the app has shown.
import { z } from "zod";
import { describeZodError, userIdSchema, type ParseResult } from "./validation.js";

/**
 * A message id as the app got it from history or new_message: a positive
 * whole number (a string of digits is taken too, as user_id's are).
 */
const messageIdSchema = z.union([z.number(), z.string()], { error: "up_to_id must be a positive whole number" }).transform((value, ctx) => {
  const n = typeof value === "number" ? value : /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    ctx.addIssue({ code: "custom", message: "up_to_id must be a positive whole number" });
    return z.NEVER;
  }
  return n;
});

export const markReadInput = z.object({ user_id: userIdSchema, up_to_id: messageIdSchema });

export interface MarkRead {
  userId: string;
  upToId: number;
}

export function parseMarkRead(payload: unknown): ParseResult<MarkRead> {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return { ok: false, error: "send an object {user_id, up_to_id}" };
  const result = markReadInput.safeParse(payload);
  if (!result.success) return { ok: false, error: describeZodError(result.error, payload) };
  return { ok: true, value: { userId: result.data.user_id, upToId: result.data.up_to_id } };
}
