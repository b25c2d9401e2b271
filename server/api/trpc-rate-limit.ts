// Rate limits for the Mini App's tRPC API (SPEC §2's limits, the "diary"
// budget shared with the REST notes): per client address before the body is
// read, and per Telegram user once the caller is authenticated. A refusal
// is tRPC's own TOO_MANY_REQUESTS error, in whatever shape the client's link
// expects (single, batch or stream), with Retry-After on the answer.
import type { IncomingMessage } from "node:http";
import { TRPCError } from "@trpc/server";
import type { DiaryPrincipal } from "../diary/auth.js";
import { isAppError, type AppError } from "../errors.js";
import type { RequestLimiter } from "../http/rate-limit.js";
import type { Context } from "./trpc.js";

export interface TrpcRequestLimits {
  /**
   * The address's limit, to be checked before the body is read: null when
   * admitted, else the error to hand tRPC (resolveResponse's `error`, which
   * fails every call of the request in the shape its link expects).
   */
  admitAddress(req: IncomingMessage): Promise<TRPCError | null>;
  /** the context with the user's limit taken when `principal()` first succeeds */
  limitContext(ctx: Context): Context;
  /** tRPC's `responseMeta`: Retry-After on a refused request */
  responseMeta(): { headers?: Record<string, string> };
}

function isRefusal(error: unknown): error is AppError {
  return isAppError(error) && error.code === "TOO_MANY_REQUESTS";
}

/** One per request: it remembers the refusal so the answer can carry Retry-After. */
export function trpcRequestLimits(limiter: RequestLimiter | undefined): TrpcRequestLimits {
  let refusal: AppError | undefined;
  return {
    async admitAddress(req) {
      try {
        await limiter?.admitIp("diary", req);
        return null;
      } catch (error) {
        if (!isRefusal(error)) throw error;
        refusal = error;
        return new TRPCError({ code: "TOO_MANY_REQUESTS", message: error.message });
      }
    },
    limitContext(ctx) {
      if (!limiter) return ctx;
      let admitted: Promise<DiaryPrincipal> | undefined;
      const principal = () =>
        (admitted ??= ctx.principal().then(async (found) => {
          try {
            await limiter.admitUser("diary", String(found.user.id));
          } catch (error) {
            if (isRefusal(error)) refusal = error;
            throw error;
          }
          return found;
        }));
      return { ...ctx, principal };
    },
    // tRPC derives the status from the calls' errors (429 when all are
    // refused). A stream (httpBatchStreamLink) is the exception: its status
    // is sent before its calls run, so it stays 200 with each call's
    // TOO_MANY_REQUESTS inside, which is what that link expects.
    responseMeta() {
      if (!refusal) return {};
      return { headers: { "Retry-After": String(Math.max(1, Math.ceil(refusal.details.retryAfterSeconds ?? 1))) } };
    },
  };
}
