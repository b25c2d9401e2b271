// The answers of the mobile REST API (SPEC §2) as zod schemas: the OpenAPI
// document is generated from them, and the type checks at the end make
// TypeScript refuse a service answer that drifts from its schema.
import { z } from "zod";
import type { DeviceStatus } from "../support/device-service.js";
import type { SendMessageAnswer } from "../support/support-service.js";
import type { ChatMessageWire } from "../support/types.js";

export const errorAnswer = z
  .object({ success: z.literal(false), error: z.string().describe("a human-readable reason") })
  .describe("Every error of the mobile routes");

export const sendMessageAnswer = z.object({
  success: z.literal(true),
  message_id: z.number().int().nullable().describe("the Telegram message id (an album's first item), null while queued"),
  photo_url: z.string().nullable().describe("the first photo's URL"),
  photo_count: z.number().int().min(0),
  id: z.number().int().describe("the stored message's id"),
  delivery: z.enum(["sent", "queued"]),
});

export const registerDeviceAnswer = z.object({
  success: z.literal(true),
  message: z.string(),
  device_count: z.number().int().min(0),
});

const wireTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/).describe("UTC, YYYY-MM-DD HH:MM:SS");

export const chatMessageWire = z.object({
  id: z.number().int(),
  user_id: z.string(),
  message: z.string(),
  photo_url: z.string().nullable(),
  photo_urls: z.array(z.string()).describe("every photo of an album, in order"),
  direction: z.enum(["user", "support"]),
  created_at: wireTime,
  read: z.boolean().optional().describe("support messages only: whether the user has read it"),
  edited_at: wireTime.optional().describe("support messages an agent edited: when"),
});

export const messageHistoryAnswer = z.object({
  success: z.literal(true),
  messages: z.array(chatMessageWire).describe("the newest messages, oldest first"),
  greeting_sent: z.boolean().describe("true when this request added the day's greeting"),
});

export const deviceStatusAnswer = z.object({
  user_id: z.string(),
  registered: z.boolean(),
  device_count: z.number().int().min(0),
  has_tokens: z.boolean(),
});

export const markReadAnswer = z.object({
  success: z.literal(true),
  unread: z.number().int().min(0).describe("support messages the user has not read yet"),
});

export const unreadCountAnswer = z.object({ user_id: z.string(), unread: z.number().int().min(0) });

// More fields may be added (SPEC §2); the ones an operator reads today are listed.
export const healthAnswer = z.looseObject({
  status: z.literal("ok"),
  telegram: z.enum(["on", "off"]).optional(),
  push: z.enum(["on", "off"]).optional(),
  queue: z
    .looseObject({ depth: z.number().int().min(0), oldest_age_seconds: z.number().min(0), last_error: z.string().nullable() })
    .optional()
    .describe("posts waiting for the Telegram group"),
  push_queue: z.looseObject({ depth: z.number().int().min(0) }).optional(),
});

// Compile-time only: each line fails to type-check when a service's answer
// type and its schema part ways (in either direction).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape = <T extends true>(ok: T) => ok;
sameShape<Same<z.output<typeof sendMessageAnswer>, SendMessageAnswer>>(true);
sameShape<Same<z.output<typeof chatMessageWire>, ChatMessageWire>>(true);
sameShape<Same<z.output<typeof deviceStatusAnswer>, DeviceStatus>>(true);
