// Input rules of the mobile REST API (SPEC §2, seed 1): field names, types,
// limits and the readable 400s they give.
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { badRequest } from "../errors.js";
import { markReadInput } from "../support/read-input.js";
import { describeZodError, parseUserId, textProblem, userIdSchema } from "../support/validation.js";
import type { RouteContext } from "./router.js";

export const MESSAGE_MAX_CHARS = 16_384;
export const JSON_LIMIT = 256 * 1024;

const optionalName = z
  .string({ error: "user_name must be a string" })
  .max(256, "user_name must be at most 256 characters")
  .nullish()
  .transform((v) => (v?.trim() ? v.trim() : null));

const clientMessageId = z
  .string({ error: "client_message_id must be a string" })
  .min(1, "client_message_id must not be empty")
  .max(128, "client_message_id must be at most 128 characters")
  .nullish()
  .transform((v) => v ?? null);

// Checked against user_id when USER_HASH_SECRET is set (server/http/user-identity.ts).
const userHash = z
  .string({ error: "user_hash must be a string" })
  .max(128, "user_hash must be at most 128 characters")
  .nullish()
  .transform((v) => v ?? null);

// Absent counts as empty: the required check below refuses it unless a photo is attached.
const messageText = z
  .string({ error: "message must be a string" })
  .max(MESSAGE_MAX_CHARS, `message must be at most ${MESSAGE_MAX_CHARS} characters`)
  .nullish()
  .transform((v) => v ?? "");

export const sendMessageJson = z.object({
  user_id: userIdSchema,
  message: messageText,
  user_name: optionalName,
  photo_url: z
    .url({ protocol: /^https?$/, error: "photo_url must be an http(s) URL" })
    .max(2048, "photo_url must be at most 2048 characters")
    .nullish()
    .transform((v) => v ?? null),
  client_message_id: clientMessageId,
  user_hash: userHash,
});

/** POST /mark_read (SPEC §7): the socket's mark_read input plus the identity hash. */
export const markReadJson = markReadInput.extend({ user_hash: userHash });

export const registerDeviceJson = z.object({
  user_id: userIdSchema,
  fcm_token: z.string({ error: "fcm_token must be a string" }).trim().min(1, "fcm_token must not be empty").max(4096, "fcm_token is too long"),
  platform: z.string({ error: "platform must be a string" }).max(32, "platform must be at most 32 characters").nullish().transform((v) => v?.trim().toLowerCase() || null),
  device_id: z.string({ error: "device_id must be a string" }).max(256, "device_id must be at most 256 characters").nullish().transform((v) => v?.trim() || null),
  user_hash: userHash,
});

/** A JSON object through a zod schema, with the first problem as the error; every string field must be storable text (textProblem). */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("the request body must be a JSON object");
  for (const [field, fieldValue] of Object.entries(value)) {
    const problem = typeof fieldValue === "string" ? textProblem(fieldValue) : null;
    if (problem) throw badRequest(`${field} ${problem}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(describeZodError(result.error, value));
  return result.data;
}

export function pathUserId(ctx: RouteContext): string {
  const parsed = parseUserId(ctx.params.user_id);
  if (!parsed.ok) throw badRequest(parsed.error);
  return parsed.value;
}

export function idempotencyHeader(req: IncomingMessage): string | null {
  const value = req.headers["idempotency-key"];
  if (typeof value !== "string") return null;
  const parsed = clientMessageId.safeParse(value.trim());
  if (!parsed.success) throw badRequest(`Idempotency-Key: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** History `limit`: 1..200, clamped; anything non-numeric means 50. */
export function historyLimit(raw: string | null): number {
  const n = raw === null ? NaN : Number.parseInt(raw, 10);
  if (!Number.isFinite(n)) return 50;
  return Math.min(200, Math.max(1, n));
}
