// The mobile app's REST API (SPEC §2, seed 1), kept exactly compatible:
// paths, field names and answer shapes are the seed's.
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { AppError, badRequest } from "../errors.js";
import type { OutgoingPhoto } from "../ports.js";
import type { UploadStore, PendingUpload } from "../storage/uploads.js";
import type { DeviceService } from "../support/device-service.js";
import type { SupportService } from "../support/support-service.js";
import { toWire } from "../support/types.js";
import { describeZodError, parseUserId, userIdSchema } from "../support/validation.js";
import { mediaType, readJson } from "./body.js";
import { readMultipart } from "./multipart.js";
import { sendJson } from "./respond.js";
import type { RouteContext, Router } from "./router.js";

export const MESSAGE_MAX_CHARS = 16_384;
const JSON_LIMIT = 256 * 1024;

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

const messageText = z.string({ error: "message must be a string" }).max(MESSAGE_MAX_CHARS, `message must be at most ${MESSAGE_MAX_CHARS} characters`);

const sendMessageJson = z.object({
  user_id: userIdSchema,
  message: messageText,
  user_name: optionalName,
  photo_url: z
    .url({ protocol: /^https?$/, error: "photo_url must be an http(s) URL" })
    .max(2048, "photo_url must be at most 2048 characters")
    .nullish()
    .transform((v) => v ?? null),
  client_message_id: clientMessageId,
});

const registerDeviceJson = z.object({
  user_id: userIdSchema,
  fcm_token: z.string({ error: "fcm_token must be a string" }).trim().min(1, "fcm_token must not be empty").max(4096, "fcm_token is too long"),
  platform: z.string({ error: "platform must be a string" }).max(32, "platform must be at most 32 characters").nullish().transform((v) => v?.trim().toLowerCase() || null),
  device_id: z.string({ error: "device_id must be a string" }).max(256, "device_id must be at most 256 characters").nullish().transform((v) => v?.trim() || null),
});

export interface MobileRouteDeps {
  support: SupportService;
  devices: DeviceService;
  uploads: UploadStore;
  health: () => Record<string, unknown>;
  /** throws UNAUTHORIZED when API_KEY is set and the request lacks it */
  requireApiKey: (req: IncomingMessage) => void;
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("the request body must be a JSON object");
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(describeZodError(result.error, value));
  return result.data;
}

function pathUserId(ctx: RouteContext): string {
  const parsed = parseUserId(ctx.params.user_id);
  if (!parsed.ok) throw badRequest(parsed.error);
  return parsed.value;
}

function idempotencyHeader(req: IncomingMessage): string | null {
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

async function sendMessage(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const { req, res } = ctx;
  const headerKey = idempotencyHeader(req);
  const type = mediaType(req);
  let input: { userId: string; userName: string | null; text: string; clientMessageId: string | null; photoUrl: string | null };
  let pending: PendingUpload[] = [];

  if (type === "multipart/form-data") {
    const form = await readMultipart(req, deps.uploads);
    pending = form.photos;
    try {
      const fields = Object.fromEntries(form.fields);
      const parsed = parse(sendMessageJson.omit({ photo_url: true }), fields);
      input = { userId: parsed.user_id, userName: parsed.user_name, text: parsed.message, clientMessageId: parsed.client_message_id, photoUrl: null };
    } catch (error) {
      await deps.uploads.discard(pending);
      throw error;
    }
  } else if (type === "application/json" || type === "") {
    const parsed = parse(sendMessageJson, await readJson(req, JSON_LIMIT));
    input = { userId: parsed.user_id, userName: parsed.user_name, text: parsed.message, clientMessageId: parsed.client_message_id, photoUrl: parsed.photo_url };
  } else {
    req.resume();
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "send JSON (application/json) or a form (multipart/form-data)");
  }
  input.clientMessageId = headerKey ?? input.clientMessageId;

  try {
    if (!input.text.trim() && pending.length === 0 && !input.photoUrl) {
      throw badRequest("message is required (it may be empty only when a photo is attached)");
    }
    const replayed = await deps.support.replay(input.userId, input.clientMessageId);
    if (replayed) {
      await deps.uploads.discard(pending);
      sendJson(res, 200, replayed);
      return;
    }
    const types = await Promise.all(pending.map((p) => deps.uploads.sniff(p)));
    const kept = await Promise.all(pending.map((p, i) => deps.uploads.keep(p, types[i] as { mime: string; ext: string })));
    pending = [];
    const photos: OutgoingPhoto[] = kept.map((k) => ({ url: k.url, localPath: k.path }));
    if (input.photoUrl) photos.push({ url: input.photoUrl });
    const { answer, duplicate } = await deps.support.sendUserMessage({ ...input, photos });
    if (duplicate) await deps.uploads.removeFiles(kept.map((k) => k.path));
    sendJson(res, 200, answer);
  } finally {
    if (pending.length > 0) await deps.uploads.discard(pending);
  }
}

async function registerDevice(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const body = parse(registerDeviceJson, await readJson(ctx.req, JSON_LIMIT));
  const count = await deps.devices.register({ userId: body.user_id, token: body.fcm_token, platform: body.platform, deviceId: body.device_id });
  sendJson(ctx.res, 200, { success: true, message: "Устройство зарегистрировано успешно", device_count: count });
}

function messageHistory(ctx: RouteContext, deps: MobileRouteDeps): void {
  const userId = pathUserId(ctx);
  const userName = ctx.url.searchParams.get("user_name");
  if (userName !== null && userName.length > 256) throw badRequest("user_name must be at most 256 characters");
  const { messages, greetingSent } = deps.support.history(userId, historyLimit(ctx.url.searchParams.get("limit")), userName?.trim() || null);
  sendJson(ctx.res, 200, { success: true, messages: messages.map(toWire), greeting_sent: greetingSent });
}

async function serveUpload(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const file = await deps.uploads.open(ctx.params.filename ?? "");
  if (!file) {
    sendJson(ctx.res, 404, { success: false, error: "no such upload" });
    return;
  }
  ctx.res.writeHead(200, {
    "Content-Type": file.contentType,
    "Content-Length": file.size,
    "X-Content-Type-Options": "nosniff",
    // Names are random and never reused: the content cannot change.
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'",
  });
  if (ctx.req.method === "HEAD") {
    ctx.res.end();
    return;
  }
  file.stream().pipe(ctx.res);
}

export function registerMobileRoutes(router: Router, deps: MobileRouteDeps): void {
  const missingUser = () => {
    throw badRequest("user_id is required in the path");
  };
  // Everything but /health and /uploads needs the API key when one is set.
  const guarded =
    (handler: (ctx: RouteContext) => Promise<void> | void) =>
    (ctx: RouteContext): Promise<void> | void => {
      deps.requireApiKey(ctx.req);
      return handler(ctx);
    };
  router
    .on("POST", "/send_message", guarded((ctx) => sendMessage(ctx, deps)))
    .on("POST", "/register_device", guarded((ctx) => registerDevice(ctx, deps)))
    .on("GET", "/message_history/:user_id", guarded((ctx) => messageHistory(ctx, deps)))
    .on("GET", "/message_history", guarded(missingUser))
    .on("GET", "/check_device/:user_id", guarded(async (ctx) => sendJson(ctx.res, 200, await deps.devices.status(pathUserId(ctx)))))
    .on("GET", "/check_device", guarded(missingUser))
    .on("GET", "/health", (ctx) => sendJson(ctx.res, 200, { status: "ok", ...deps.health() }))
    .on("GET", "/uploads/:filename", (ctx) => serveUpload(ctx, deps))
    .on("GET", "/uploads/*", (ctx) => sendJson(ctx.res, 404, { success: false, error: "no such upload" }));
}
