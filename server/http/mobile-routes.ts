// The mobile app's REST API (SPEC §2, seed 1), kept exactly compatible:
// paths, field names and answer shapes are the seed's.
import type { IncomingMessage } from "node:http";
import { pipeline } from "node:stream/promises";
import { badRequest } from "../errors.js";
import type { UploadStore } from "../storage/uploads.js";
import type { DeviceService } from "../support/device-service.js";
import type { SupportService } from "../support/support-service.js";
import { toWire } from "../support/types.js";
import { readJson } from "./body.js";
import { historyLimit, JSON_LIMIT, markReadJson, parse, pathUserId, registerDeviceJson } from "./mobile-input.js";
import type { IpLimitedAction, RequestLimiter } from "./rate-limit.js";
import { sendJson } from "./respond.js";
import type { RouteContext, Router } from "./router.js";
import { sendMessage } from "./send-message-route.js";
import type { UserIdentity } from "./user-identity.js";
import { textProblem } from "../support/validation.js";

export interface MobileRouteDeps {
  support: SupportService;
  devices: DeviceService;
  uploads: UploadStore;
  health: () => Promise<Record<string, unknown>>;
  /** throws UNAUTHORIZED when API_KEY is set and the request lacks it */
  requireApiKey: (req: IncomingMessage) => void;
  /** inbound rate limits per client address and per user */
  limiter: RequestLimiter;
  /**
   * the user_hash check (USER_HASH_SECRET); each route runs it before the
   * per-user limit, so requests that merely name a user cannot spend that
   * user's budget
   */
  identity: UserIdentity;
}

async function registerDevice(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const body = parse(registerDeviceJson, await readJson(ctx.req, JSON_LIMIT));
  deps.identity.verifyRequest(ctx, body.user_id, body.user_hash);
  await deps.limiter.admitUser("register", body.user_id);
  const count = await deps.devices.register({ userId: body.user_id, token: body.fcm_token, platform: body.platform, deviceId: body.device_id });
  sendJson(ctx.res, 200, { success: true, message: "Устройство зарегистрировано успешно", device_count: count });
}

async function messageHistory(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const userId = pathUserId(ctx);
  deps.identity.verifyRequest(ctx, userId);
  await deps.limiter.admitUser("read", userId);
  const userName = ctx.url.searchParams.get("user_name");
  if (userName !== null && userName.length > 256) throw badRequest("user_name must be at most 256 characters");
  const nameProblem = userName === null ? null : textProblem(userName);
  if (nameProblem) throw badRequest(`user_name ${nameProblem}`);
  const { messages, greetingSent } = await deps.support.history(userId, historyLimit(ctx.url.searchParams.get("limit")), userName?.trim() || null);
  sendJson(ctx.res, 200, { success: true, messages: messages.map(toWire), greeting_sent: greetingSent });
}

// Read state (SPEC §7). Counted against the "read" limits: an app marks
// read about as often as it loads history.
async function markRead(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const body = parse(markReadJson, await readJson(ctx.req, JSON_LIMIT));
  deps.identity.verifyRequest(ctx, body.user_id, body.user_hash);
  await deps.limiter.admitUser("read", body.user_id);
  const { unread } = await deps.support.markRead({ userId: body.user_id, upToId: body.up_to_id });
  sendJson(ctx.res, 200, { success: true, unread });
}

async function unreadCount(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const userId = pathUserId(ctx);
  deps.identity.verifyRequest(ctx, userId);
  await deps.limiter.admitUser("read", userId);
  sendJson(ctx.res, 200, { user_id: userId, unread: await deps.support.unreadCount(userId) });
}

async function serveUpload(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const file = await deps.uploads.open(ctx.params.filename ?? "");
  if (!file) {
    sendJson(ctx.res, 404, { success: false, error: "no such upload" });
    return;
  }
  const headers = {
    "Content-Type": file.contentType,
    "Content-Length": file.size,
    "X-Content-Type-Options": "nosniff",
    // Names are random and never reused: the content cannot change.
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'",
  };
  if (ctx.req.method === "HEAD") {
    ctx.res.writeHead(200, headers).end();
    return;
  }
  const stream = file.stream();
  // The file is opened only now: one removed or made unreadable since it was
  // found is a 404, before any header goes out.
  const opened = await new Promise<boolean>((resolve) => {
    stream.once("ready", () => resolve(true));
    stream.once("error", () => resolve(false));
  });
  if (!opened) {
    sendJson(ctx.res, 404, { success: false, error: "no such upload" });
    return;
  }
  ctx.res.writeHead(200, headers);
  // A read that fails mid-way can only cut the answer short (the length is
  // sent already): pipeline closes both ends, and the process carries on.
  await pipeline(stream, ctx.res).catch(() => undefined);
}

export function registerMobileRoutes(router: Router, deps: MobileRouteDeps): void {
  const missingUser = () => {
    throw badRequest("user_id is required in the path");
  };
  // The client address's limit comes first, before the key check and before
  // any body is read; everything but /health and /uploads needs the API key
  // when one is set. /health stays unlimited for monitors.
  const limited =
    (action: IpLimitedAction, handler: (ctx: RouteContext) => Promise<void> | void) =>
    async (ctx: RouteContext): Promise<void> => {
      await deps.limiter.admitIp(action, ctx.req);
      return handler(ctx);
    };
  const guarded = (action: IpLimitedAction, handler: (ctx: RouteContext) => Promise<void> | void) =>
    limited(action, (ctx) => {
      deps.requireApiKey(ctx.req);
      return handler(ctx);
    });
  const checkDevice = async (ctx: RouteContext) => {
    const userId = pathUserId(ctx);
    deps.identity.verifyRequest(ctx, userId);
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
    .on("POST", "/mark_read", guarded("read", (ctx) => markRead(ctx, deps)))
    .on("GET", "/unread_count/:user_id", guarded("read", (ctx) => unreadCount(ctx, deps)))
    .on("GET", "/unread_count", guarded("read", missingUser))
    .on("GET", "/health", async (ctx) => sendJson(ctx.res, 200, { status: "ok", ...(await deps.health()) }))
    .on("GET", "/uploads/:filename", limited("uploads", (ctx) => serveUpload(ctx, deps)))
    .on("GET", "/uploads/*", limited("uploads", (ctx) => sendJson(ctx.res, 404, { success: false, error: "no such upload" })));
}
