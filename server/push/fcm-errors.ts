// What a failed send to one token means for that token. The codes are
// firebase-admin's (FirebaseMessagingError / FirebaseAppError `code`); the
// server's FCM v1 errors are mapped to them inside the library, see
// https://firebase.google.com/docs/cloud-messaging/error-codes
// and MESSAGING_SERVER_TO_CLIENT_CODE in firebase-admin's utils/error.js.

/**
 * - `invalid`: the token will never work again; the caller deletes it.
 * - `retry`: FCM or the network failed for now; the same push may succeed later.
 * - `drop`: the push cannot succeed as sent, but the token is not to blame
 *   (bad payload, our credentials, APNs set-up): keep the token, log it.
 */
export type PushFailureKind = "invalid" | "retry" | "drop";

const INVALID_CODES = new Set([
  "messaging/registration-token-not-registered",
  "messaging/invalid-registration-token",
  "messaging/invalid-recipient",
]);

const RETRY_CODES = new Set([
  "messaging/internal-error",
  "messaging/server-unavailable",
  "messaging/unknown-error",
  "messaging/message-rate-exceeded",
  "messaging/device-message-rate-exceeded",
  "messaging/topics-message-rate-exceeded",
  "app/network-error",
  "app/network-timeout",
  "app/internal-error",
  // Fetching the OAuth access token failed; offline or Google's token
  // endpoint down is the usual cause, and a revoked key shows up in the log.
  "app/invalid-credential",
]);

/**
 * FCM v1 answers INVALID_ARGUMENT both for a malformed token and for a bad
 * payload; only the message tells them apart ("The registration token is not
 * a valid FCM registration token", or a field violation on message.token).
 */
const TOKEN_ARGUMENT = /registration token|message\.token/i;

export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

export function errorMessageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  return String(error);
}

export function classifyPushError(error: unknown): PushFailureKind {
  const code = errorCodeOf(error);
  if (code === undefined) {
    // Not a Firebase error: a socket or TLS failure that escaped the
    // library's wrapping. Transient until proven otherwise.
    return "retry";
  }
  if (INVALID_CODES.has(code)) return "invalid";
  if (RETRY_CODES.has(code)) return "retry";
  if (code === "messaging/invalid-argument" && TOKEN_ARGUMENT.test(errorMessageOf(error))) return "invalid";
  // Node's own socket codes (ECONNRESET, ETIMEDOUT…) when they surface unwrapped.
  if (/^E[A-Z]+$/.test(code)) return "retry";
  return "drop";
}
