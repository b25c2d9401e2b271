// One error vocabulary for the whole service. Services throw AppError; each
// edge maps the code once: to an HTTP status for REST, to a tRPC code for
// the Mini App API. Anything that is not an AppError is an internal fault:
// logged in full, answered without details.

export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_REQUESTS"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL";

const HTTP_STATUS: Record<AppErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** tRPC's names for the same situations (TRPC_ERROR_CODE_KEY). */
const TRPC_CODE = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
} as const satisfies Record<AppErrorCode, string>;

export type TrpcErrorCode = (typeof TRPC_CODE)[AppErrorCode];

// Next.js bundles route handlers apart from server/main.ts, so the same class
// can exist twice in one process; a registered symbol recognises both.
const BRAND = Symbol.for("support-diary.AppError");

export class AppError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly details: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = "AppError";
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  get trpcCode(): TrpcErrorCode {
    return TRPC_CODE[this.code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

export const badRequest = (message: string) => new AppError("BAD_REQUEST", message);
export const unauthorized = (message: string) => new AppError("UNAUTHORIZED", message);
export const notFound = (message: string) => new AppError("NOT_FOUND", message);
