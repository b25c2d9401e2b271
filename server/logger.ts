// One way to log: pino, JSON lines on stdout. Anything that can carry a
// secret is redacted by path, and the bot token is scrubbed from strings
// (grammY puts it into request URLs, which end up in error messages).
import { pino, type Logger, type LoggerOptions } from "pino";
import { currentRequestId } from "./ops/request-context.js";

export type { Logger } from "pino";

const REDACT_PATHS = [
  "token",
  "*.token",
  "botToken",
  "*.botToken",
  "apiKey",
  "*.apiKey",
  "fcm_token",
  "*.fcm_token",
  "fcmToken",
  "*.fcmToken",
  "privateKey",
  "*.privateKey",
  "private_key",
  "*.private_key",
  "secret",
  "*.secret",
  "webhookSecret",
  "*.webhookSecret",
  "headers.authorization",
  "headers.x-api-key",
  "headers.x-session-token",
  "headers.x-telegram-bot-api-secret-token",
  "req.headers.authorization",
  "req.headers.x-api-key",
  "req.headers.x-session-token",
  "req.headers.x-telegram-bot-api-secret-token",
];

/** Replaces every occurrence of the given secrets in a string. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 6) out = out.split(secret).join("[redacted]");
  }
  return out;
}

export interface LoggerSetup {
  level: LoggerOptions["level"];
  /** values that must never appear in a log line, wherever they hide */
  secrets: readonly string[];
  destination?: pino.DestinationStream;
}

export function createLogger({ level, secrets, destination }: LoggerSetup): Logger {
  const liveSecrets = secrets.filter((s) => s.length >= 6);
  const options: LoggerOptions = {
    level,
    base: undefined,
    // Every line written while a request is handled names that request.
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      err: (error: unknown) => {
        const serialized = pino.stdSerializers.err(error as Error);
        if (liveSecrets.length === 0) return serialized;
        return JSON.parse(scrubSecrets(JSON.stringify(serialized), liveSecrets)) as typeof serialized;
      },
    },
    hooks: {
      logMethod(args, method) {
        if (liveSecrets.length > 0) {
          for (let i = 0; i < args.length; i++) {
            const value: unknown = args[i];
            if (typeof value === "string") args[i] = scrubSecrets(value, liveSecrets);
          }
        }
        method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
