// The mobile app's REST API (SPEC §2, seed 1), kept exactly compatible:
// paths, field names and answer shapes are the seed's.
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { AppError, badRequest } from "../errors.js";
import type { OutgoingPhoto } from "../ports.js";
import type { UploadStore, PendingUpload, StoredUpload } from "../storage/uploads.js";
import type { DeviceService } from "../support/device-service.js";
import type { SupportService } from "../support/support-service.js";
import { toWire } from "../support/types.js";
import { describeZodError, parseUserId, userIdSchema } from "../support/validation.js";
import { mediaType, readJson } from "./body.js";
import { readMultipart } from "./multipart.js";
import type { LimitedAction, RequestLimiter } from "./rate-limit.js";
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

// Absent counts as empty: the required check below refuses it unless a photo is attached.
const messageText = z
  .string({ error: "message must be a string" })
  .max(MESSAGE_MAX_CHARS, `message must be at most ${MESSAGE_MAX_CHARS} characters`)
  .nullish()
  .transform((v) => v ?? "");

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
  /** inbound rate limits per client address and per user */
  limiter: RequestLimiter;
}

// A lone UTF-16 surrogate ("\ud800" in JSON) is not text: Prisma's engine
// fails on it with a 500, and Telegram would refuse it later.
const LONE_SURROGATE = /\p{Surrogate}/u;

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("the request body must be a JSON object");
  for (const [field, fieldValue] of Object.entries(value)) {
    if (typeof fieldValue === "string" && LONE_SURROGATE.test(fieldValue)) throw badRequest(`${field} is not valid Unicode text`);
  }
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
  // The per-user limit is taken once per request, as early as the user is
  // known: for a form that is before its first photo is received.
  let admission: Promise<void> | null = null;
  const admitUser = (userId: string) => (admission ??= deps.limiter.admitUser("send", userId));

  if (type === "multipart/form-data") {
    const form = await readMultipart(req, deps.uploads, {
      beforeFile: async (fields) => {
        const userId = parseUserId(fields.get("user_id"));
        if (userId.ok) await admitUser(userId.value);
      },
    });
    pending = form.photos;
    try {
      const fields = Object.fromEntries(form.fields);
      const parsed = parse(sendMessageJson.omit({ photo_url: true }), fields);
      input = { userId: parsed.user_id, userName: parsed.user_name, text: parsed.message, clientMessageId: parsed.client_message_id, photoUrl: null };
      await admitUser(input.userId);
    } catch (error) {
      await deps.uploads.discard(pending);
      throw error;
    }
  } else if (type === "application/json" || type === "") {
    const parsed = parse(sendMessageJson, await readJson(req, JSON_LIMIT));
    input = { userId: parsed.user_id, userName: parsed.user_name, text: parsed.message, clientMessageId: parsed.client_message_id, photoUrl: parsed.photo_url };
    await admitUser(input.userId);
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
    // One at a time: keeping a photo reads it whole to strip its metadata, and ten at once would hold 100 MB.
    const kept: StoredUpload[] = [];
    try {
      for (const [i, p] of pending.entries()) kept.push(await deps.uploads.keep(p, types[i] as { mime: string; ext: string }));
    } catch (error) {
      await deps.uploads.removeFiles(kept.map((k) => k.path));
      throw error;
    }
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
  await deps.limiter.admitUser("register", body.user_id);
  const count = await deps.devices.register({ userId: body.user_id, token: body.fcm_token, platform: body.platform, deviceId: body.device_id });
  sendJson(ctx.res, 200, { success: true, message: "Устройство зарегистрировано успешно", device_count: count });
}

async function messageHistory(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const userId = pathUserId(ctx);
  await deps.limiter.admitUser("read", userId);
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
  // The client address's limit comes first, before the key check and before
  // any body is read; everything but /health and /uploads needs the API key
  // when one is set. /health stays unlimited for monitors.
  const limited =
    (action: LimitedAction, handler: (ctx: RouteContext) => Promise<void> | void) =>
    async (ctx: RouteContext): Promise<void> => {
      await deps.limiter.admitIp(action, ctx.req);
      return handler(ctx);
    };
  const guarded = (action: LimitedAction, handler: (ctx: RouteContext) => Promise<void> | void) =>
    limited(action, (ctx) => {
      deps.requireApiKey(ctx.req);
      return handler(ctx);
    });
  const checkDevice = async (ctx: RouteContext) => {
    const userId = pathUserId(ctx);
    await deps.limiter.admitUser("read", userId);
    sendJson(ctx.res, 200, await deps.devices.status(userId));
  };
  router
    .on("POST", "/send_message", guarded("send", (ctx) => sendMessage(ctx, deps)))
    .on("POST", "/register_device", guarded("register", (ctx) => registerDevice(ctx, deps)))
    .on("GET", "/message_history/:user_id", guarded("read", (ctx) => messageHistory(ctx, deps)))
    .on("GET", "/message_history", guarded("read", missingUser))
    .on("GET", "/check_device/:user_id", guarded("read", checkDevice))
    .on("GET", "/check_device", guarded("read", missingUser))
    .on("GET", "/health", (ctx) => sendJson(ctx.res, 200, { status: "ok", ...deps.health() }))
    .on("GET", "/uploads/:filename", limited("uploads", (ctx) => serveUpload(ctx, deps)))
    .on("GET", "/uploads/*", limited("uploads", (ctx) => sendJson(ctx.res, 404, { success: false, error: "no such upload" })));
}
