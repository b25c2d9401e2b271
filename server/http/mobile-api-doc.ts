// The OpenAPI entries of the mobile REST API (SPEC §2), from the same zod
// schemas that validate its requests (mobile-input.ts) and describe its
// answers (mobile-answers.ts). A new route adds its entry here.
import { z } from "zod";
import type { ParameterDoc, ResponseDoc, RouteDoc } from "../ops/openapi.js";
import { MAX_PHOTO_BYTES } from "../storage/uploads.js";
import { userIdSchema } from "../support/validation.js";
import {
  deviceStatusAnswer,
  errorAnswer,
  healthAnswer,
  markReadAnswer,
  messageHistoryAnswer,
  registerDeviceAnswer,
  sendMessageAnswer,
  unreadCountAnswer,
} from "./mobile-answers.js";
import { formatBytes } from "./body.js";
import { markReadJson, registerDeviceJson, sendMessageJson } from "./mobile-input.js";
import { MAX_PHOTOS } from "./multipart.js";

// A form carries text fields and up to ten photo files (checked by content: JPEG, PNG, WebP or GIF).
const sendMessageForm = sendMessageJson.omit({ photo_url: true }).extend({
  user_id: z.string().describe("the user's id"),
  photo: z
    .array(z.string().meta({ contentMediaType: "application/octet-stream" }))
    .max(MAX_PHOTOS)
    .optional()
    .describe(`0..${MAX_PHOTOS} photos, at most ${formatBytes(MAX_PHOTO_BYTES)} each`),
});

const error = (description: string): ResponseDoc => ({ description, schema: errorAnswer });

const tooMany: ResponseDoc = {
  description: "over a rate limit (per client address or per user)",
  schema: errorAnswer,
  headers: { "Retry-After": { description: "seconds until a retry can succeed", schema: z.number().int().min(1) } },
};

/** The errors every guarded route can give. */
const guardedErrors: Record<string, ResponseDoc> = {
  "400": error("the request is not valid; error names the problem"),
  "401": error("API_KEY is set and the request lacks the key, or USER_HASH_SECRET is set and user_hash is missing or wrong"),
  "429": tooMany,
  default: error("any other failure"),
};

const userIdPath: ParameterDoc = { name: "user_id", in: "path", description: "the app's user id", schema: userIdSchema };

// With USER_HASH_SECRET set, a request naming a user proves it (SPEC §2): as
// a body field, this query parameter or this header.
const userHashSchema = z.string().regex(/^[0-9a-f]{64}$/).describe("lowercase hex HMAC-SHA256 of user_id, keyed with USER_HASH_SECRET");
const userHashParameters: ParameterDoc[] = [
  { name: "user_hash", in: "query", description: "the user's identity hash (when USER_HASH_SECRET is set)", schema: userHashSchema },
  { name: "X-User-Hash", in: "header", description: "the same, as a header", schema: userHashSchema },
];

export const mobileApiDoc: RouteDoc[] = [
  {
    method: "post",
    path: "/send_message",
    summary: "A user's message to support",
    description:
      "Stored first, then posted to the support group. Waits up to about 3 s for Telegram; " +
      "`delivery` is `queued` (and `message_id` null) when pacing or an outage holds the post back: it is delivered later, in order. " +
      "A repeated `client_message_id` (or Idempotency-Key) returns the first answer.",
    tags: ["mobile"],
    auth: "apiKey",
    parameters: [{ name: "Idempotency-Key", in: "header", description: "same as client_message_id", schema: z.string().min(1).max(128) }, ...userHashParameters],
    body: { "application/json": sendMessageJson, "multipart/form-data": sendMessageForm },
    responses: {
      "200": { description: "stored (and sent, or queued)", schema: sendMessageAnswer },
      ...guardedErrors,
      "403": error("an agent banned this user (/ban): nothing is stored or posted"),
      "413": error("a photo or the body is too large"),
      "415": error("neither JSON nor a multipart form"),
    },
  },
  {
    method: "post",
    path: "/register_device",
    summary: "Register (or update) a device's FCM token for push",
    tags: ["mobile"],
    auth: "apiKey",
    parameters: userHashParameters,
    body: { "application/json": registerDeviceJson },
    responses: { "200": { description: "registered", schema: registerDeviceAnswer }, ...guardedErrors, "413": error("the body is too large") },
  },
  {
    method: "get",
    path: "/message_history/{user_id}",
    summary: "A user's newest messages, oldest first",
    description: "The first request of a user on a calendar day adds the day's greeting as a support message.",
    tags: ["mobile"],
    auth: "apiKey",
    parameters: [
      userIdPath,
      ...userHashParameters,
      { name: "limit", in: "query", description: "1..200 (clamped); anything non-numeric means 50", schema: z.string() },
      { name: "user_name", in: "query", description: "the name the greeting uses", schema: z.string().max(256) },
    ],
    responses: { "200": { description: "the history", schema: messageHistoryAnswer }, ...guardedErrors },
  },
  {
    method: "get",
    path: "/check_device/{user_id}",
    summary: "Whether a user has devices registered for push",
    tags: ["mobile"],
    auth: "apiKey",
    parameters: [userIdPath, ...userHashParameters],
    responses: { "200": { description: "the user's devices", schema: deviceStatusAnswer }, ...guardedErrors },
  },
  {
    method: "post",
    path: "/mark_read",
    summary: "The user has read every support message up to up_to_id",
    description: "Marking never un-reads. Every socket of the user gets `read {user_id, up_to_id, unread}` (the socket's own `mark_read` event does the same).",
    tags: ["mobile"],
    auth: "apiKey",
    parameters: userHashParameters,
    body: { "application/json": markReadJson },
    responses: { "200": { description: "marked", schema: markReadAnswer }, ...guardedErrors, "413": error("the body is too large") },
  },
  {
    method: "get",
    path: "/unread_count/{user_id}",
    summary: "How many support messages the user has not read (the app's badge)",
    tags: ["mobile"],
    auth: "apiKey",
    parameters: [userIdPath, ...userHashParameters],
    responses: { "200": { description: "the count", schema: unreadCountAnswer }, ...guardedErrors },
  },
  ...["/message_history", "/check_device", "/unread_count"].map(
    (path): RouteDoc => ({
      method: "get",
      path,
      summary: "Without a user id: always 400",
      description: `The user id belongs in the path: ${path}/{user_id}.`,
      tags: ["mobile"],
      auth: "apiKey",
      responses: guardedErrors,
    }),
  ),
  {
    method: "get",
    path: "/health",
    summary: "Liveness, with delivery state for an operator",
    tags: ["operations"],
    auth: "none",
    responses: { "200": { description: "the process answers", schema: healthAnswer } },
  },
  {
    method: "get",
    path: "/uploads/{filename}",
    summary: "A stored photo",
    tags: ["mobile"],
    auth: "none",
    parameters: [{ name: "filename", in: "path", description: "the name in a photo_url", schema: z.string() }],
    responses: {
      "200": { description: "the photo, with its content type", contentType: "image/*", schema: z.string().meta({ contentMediaType: "image/*" }) },
      "404": error("no such upload"),
      "429": tooMany,
    },
  },
];
