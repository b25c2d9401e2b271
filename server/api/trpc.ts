// The one place that owns tRPC for the Mini App API: context, init, error
// shape and the procedure builders. Procedures stay thin: they validate with
// zod and call the services in server/diary, which own the rules.
import { initTRPC, TRPCError } from "@trpc/server";
import type { Config } from "../config/env.js";
import type { Db } from "../db/database.js";
import { authenticate, type DiaryAuthDeps, type DiaryCredentials, type DiaryPrincipal } from "../diary/auth.js";
import { isAppError } from "../errors.js";
import type { Logger } from "../logger.js";

/** What the API needs from the composition root (server/app.ts). */
export interface DiaryApiDeps {
  db: Db;
  config: Pick<Config, "botToken" | "initDataMaxAgeSeconds">;
  logger: Logger;
  /** clock, replaceable in tests */
  now?: () => Date;
}

export interface CreateContextInnerOptions extends DiaryApiDeps {
  credentials?: DiaryCredentials;
}

export interface Context {
  db: Db;
  logger: Logger;
  now: () => Date;
  credentials: DiaryCredentials;
  auth: DiaryAuthDeps;
  /** authenticates once per request (a batch shares it); rejects with UNAUTHORIZED */
  principal(): Promise<DiaryPrincipal>;
}

/**
 * The context without any request object, so tests can build it and use
 * `appRouter.createCaller(ctx)`; the HTTP adapter fills `credentials` from
 * the headers.
 */
export function createContextInner(options: CreateContextInnerOptions): Context {
  const now = options.now ?? (() => new Date());
  const credentials = options.credentials ?? {};
  const auth: DiaryAuthDeps = {
    db: options.db,
    botToken: options.config.botToken,
    initDataMaxAgeSeconds: options.config.initDataMaxAgeSeconds,
    now,
  };
  let memo: Promise<DiaryPrincipal> | undefined;
  return {
    db: options.db,
    logger: options.logger,
    now,
    credentials,
    auth,
    principal: () => (memo ??= authenticate(auth, credentials)),
  };
}

interface ZodLikeIssue {
  path: readonly PropertyKey[];
  message: string;
}

function zodIssues(cause: unknown): ZodLikeIssue[] | undefined {
  if (typeof cause !== "object" || cause === null) return undefined;
  const issues = (cause as { issues?: unknown }).issues;
  return Array.isArray(issues) ? (issues as ZodLikeIssue[]) : undefined;
}

/** "text: text must not be empty; id: id must be a number" */
function readableIssues(issues: ZodLikeIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.map(String).join(".");
      return where && !issue.message.startsWith(`${where} `) ? `${where}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

const t = initTRPC.context<Context>().create({
  // Clients get a code and a readable message; never a stack, a cause, or
  // the text of an internal failure (those stay in the log, see onError).
  errorFormatter({ shape, error }) {
    let message = shape.message;
    const issues = error.code === "BAD_REQUEST" ? zodIssues(error.cause) : undefined;
    if (issues) message = readableIssues(issues);
    else if (error.code === "INTERNAL_SERVER_ERROR") message = "Internal server error";
    return {
      message,
      code: shape.code,
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Services throw AppError; here it becomes the matching tRPC code, once. */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isAppError(result.error.cause)) {
    const cause = result.error.cause;
    throw new TRPCError({ code: cause.trpcCode, message: cause.message });
  }
  return result;
});

export const publicProcedure = t.procedure.use(appErrors);

/** Needs a valid initData or session token; narrows `ctx.user` to the caller. */
export const protectedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const principal = await ctx.principal();
  return next({ ctx: { user: principal.user, principal } });
});
