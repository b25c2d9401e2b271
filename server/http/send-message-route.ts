// POST /send_message (SPEC §2): JSON or multipart with up to ten photos.
// The message is stored (with its outbox job) before any Telegram call; the
// answer waits briefly for the first attempt.
import { AppError, badRequest, isAppError } from "../errors.js";
import type { OutgoingPhoto } from "../ports.js";
import type { ImageInfo } from "../storage/image-pipeline.js";
import type { PendingUpload, StoredUpload } from "../storage/uploads.js";
import { parseUserId } from "../support/validation.js";
import { mediaType, readJson } from "./body.js";
import { idempotencyHeader, JSON_LIMIT, parse, sendMessageJson } from "./mobile-input.js";
import type { MobileRouteDeps } from "./mobile-routes.js";
import { readMultipart } from "./multipart.js";
import { sendJson } from "./respond.js";
import type { RouteContext } from "./router.js";

export async function sendMessage(ctx: RouteContext, deps: MobileRouteDeps): Promise<void> {
  const { req, res } = ctx;
  const headerKey = idempotencyHeader(req);
  const type = mediaType(req);
  let input: { userId: string; userName: string | null; text: string; clientMessageId: string | null; photoUrl: string | null };
  let pending: PendingUpload[] = [];
  // The sender is proven (USER_HASH_SECRET) and then the per-user limit is
  // taken, once per request and as early as the user is known: for a form
  // that is before its first photo is received, so a refused form never
  // puts a photo on disk.
  let admission: Promise<void> | null = null;
  const admitUser = (userId: string, hash: string | null | undefined) =>
    (admission ??= (async () => {
      deps.identity.verifyRequest(ctx, userId, hash);
      await deps.limiter.admitUser("send", userId);
      // A banned user is refused here too, before a photo of theirs is received.
      await deps.support.assertMaySend(userId);
    })());

  if (type === "multipart/form-data") {
    const form = await readMultipart(req, deps.uploads, {
      beforeFile: async (fields) => {
        const userId = parseUserId(fields.get("user_id"));
        if (userId.ok) await admitUser(userId.value, fields.get("user_hash"));
        else if (deps.identity.enforced) throw badRequest("user_id must come before the photos in the form, so the sender is checked before they are accepted");
      },
    });
    pending = form.photos;
    try {
      const fields = Object.fromEntries(form.fields);
      const parsed = parse(sendMessageJson.omit({ photo_url: true }), fields);
      input = { userId: parsed.user_id, userName: parsed.user_name, text: parsed.message, clientMessageId: parsed.client_message_id, photoUrl: null };
      await admitUser(input.userId, parsed.user_hash);
    } catch (error) {
      await deps.uploads.discard(pending);
      throw error;
    }
  } else if (type === "application/json" || type === "") {
    const parsed = parse(sendMessageJson, await readJson(req, JSON_LIMIT));
    input = { userId: parsed.user_id, userName: parsed.user_name, text: parsed.message, clientMessageId: parsed.client_message_id, photoUrl: parsed.photo_url };
    await admitUser(input.userId, parsed.user_hash);
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
    // Headers first (nothing decoded): a wrong or oversized photo anywhere in the form is refused before any is processed.
    const infos = await Promise.all(pending.map((p) => deps.uploads.inspect(p)));
    // One at a time: each is decoded and written anew, and ten at once would hold ten decoded photos.
    const kept: StoredUpload[] = [];
    try {
      for (const [i, p] of pending.entries()) kept.push(await deps.uploads.keep(p, infos[i] as ImageInfo, { forTelegram: true }));
    } catch (error) {
      await deps.uploads.remove(kept);
      throw error;
    }
    pending = [];
    const photos: OutgoingPhoto[] = kept.map((k) => ({ url: k.url, localPath: k.telegramPath ?? k.path }));
    if (input.photoUrl) photos.push({ url: input.photoUrl });
    let sent;
    try {
      sent = await deps.support.sendUserMessage({ ...input, photos });
    } catch (error) {
      // Refused before anything was stored (a ban that landed meanwhile): keep no photo of it.
      if (isAppError(error) && error.code === "FORBIDDEN") await deps.uploads.remove(kept);
      throw error;
    }
    const { answer, duplicate } = sent;
    if (duplicate) await deps.uploads.remove(kept);
    sendJson(res, 200, answer);
  } finally {
    if (pending.length > 0) await deps.uploads.discard(pending);
  }
}
