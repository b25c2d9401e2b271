// The only reader of process.env. Everything the service can be told is
// validated here once, at start-up, so a bad value stops the process with one
// line naming the variable as the operator spelled it.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { parseEnv } from "node:util";
import { z } from "zod";
import { applyRateRule, DEFAULT_RATE_LIMITS, NO_RATE_LIMITS, parseRateRule, RATE_LIMIT_VARIABLES, RATE_RULE_FORMAT, type RateLimits } from "./rate-limits.js";

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = "ConfigError";
  }
}

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const port = z
  .string()
  .regex(/^\d+$/, "must be a whole number between 0 and 65535")
  .transform(Number)
  .pipe(z.number().max(65535, "must be between 0 and 65535"));

// Telegram chat ids are integers; supergroups are -100…, and @channelusername
// is accepted by the Bot API for public chats.
const chatId = z
  .string()
  .trim()
  .regex(/^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$/, "must be a Telegram chat id such as -1001234567890");

const urlText = z.url({ error: "must be an absolute URL such as https://example.com/" });

/** Each entry: the variable names accepted (first is canonical) and the schema. */
const variables = {
  botToken: { names: ["BOT_TOKEN", "TELEGRAM_BOT_TOKEN"], schema: optionalText.pipe(z.string().regex(/^\d+:[\w-]+$/, "must look like 123456:ABC-DEF… (the token from @BotFather)").optional()) },
  groupChatId: { names: ["GROUP_CHAT_ID"], schema: optionalText.pipe(chatId.optional()) },
  host: { names: ["SERVER_HOST"], schema: optionalText.transform((v) => v ?? "0.0.0.0") },
  port: { names: ["SERVER_PORT", "PORT"], schema: optionalText.transform((v) => v ?? "5000").pipe(port) },
  databaseUrl: {
    names: ["DATABASE_URL"],
    schema: optionalText
      .transform((v) => v ?? "file:./data/support_bot.db")
      .pipe(z.string().regex(/^(file:.+|postgres(ql)?:\/\/.+)/, "must be a SQLite URL such as file:./data/support_bot.db, or a PostgreSQL URL such as postgres://user:password@host:5432/support")),
  },
  clusterSize: { names: ["CLUSTER_SIZE"], schema: optionalText.transform((v) => v ?? "2").pipe(z.string().regex(/^[1-9]\d{0,2}$/, "must be the number of instances (a whole number from 1)").transform(Number)) },
  redisUrl: { names: ["REDIS_URL"], schema: optionalText.pipe(z.string().regex(/^rediss?:\/\/.+/, "must be a Redis URL such as redis://localhost:6379").optional()) },
  redisKeyPrefix: {
    names: ["REDIS_KEY_PREFIX"],
    schema: optionalText.transform((v) => v ?? "").pipe(z.string().regex(/^[\w:.-]{0,64}$/, "may hold only A-Z, a-z, 0-9, _, :, . and - (up to 64 characters)")),
  },
  uploadDir: { names: ["UPLOAD_DIR"], schema: optionalText.transform((v) => v ?? "./uploads") },
  fcmServiceAccountPath: { names: ["FCM_SERVICE_ACCOUNT_PATH"], schema: optionalText },
  publicWebappUrl: { names: ["PUBLIC_WEBAPP_URL"], schema: optionalText.pipe(urlText.optional()) },
  webappVersion: { names: ["WEBAPP_VERSION"], schema: optionalText },
  webhookSecret: { names: ["TELEGRAM_WEBHOOK_SECRET"], schema: optionalText.pipe(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, "may hold only A-Z, a-z, 0-9, _ and - (1 to 256 characters), as Telegram requires").optional()) },
  telegramApiRoot: { names: ["TELEGRAM_API_ROOT"], schema: optionalText.transform((v) => v ?? "https://api.telegram.org").pipe(urlText).transform((v) => v.replace(/\/+$/, "")) },
  telegramMode: { names: ["TELEGRAM_MODE"], schema: optionalText.transform((v) => v ?? "webhook").pipe(z.enum(["webhook", "polling", "off"], { error: "must be webhook, polling or off" })) },
  apiKey: { names: ["API_KEY"], schema: optionalText },
  userHashSecret: { names: ["USER_HASH_SECRET"], schema: optionalText },
  rateLimitsEnabled: { names: ["RATE_LIMITS"], schema: optionalText.transform((v) => v?.toLowerCase() ?? "on").pipe(z.enum(["on", "off"], { error: "must be on or off" })).transform((v) => v === "on") },
  initDataMaxAgeSeconds: { names: ["INITDATA_MAX_AGE_SECONDS"], schema: optionalText.transform((v) => v ?? "86400").pipe(z.string().regex(/^[1-9]\d*$/, "must be a positive whole number of seconds").transform(Number)) },
  supportReminderMinutes: { names: ["SUPPORT_REMINDER_MINUTES"], schema: optionalText.transform((v) => v ?? "0").pipe(z.string().regex(/^\d{1,5}$/, "must be a whole number of minutes (0 turns reminders off)").transform(Number)) },
  trustProxy: { names: ["TRUST_PROXY"], schema: optionalText.transform((v) => v ?? "false").pipe(z.enum(["true", "false", "1", "0"], { error: "must be true or false" })).transform((v) => v === "true" || v === "1") },
  supportTopics: { names: ["SUPPORT_TOPICS"], schema: optionalText.transform((v) => v ?? "off").pipe(z.enum(["on", "off"], { error: "must be on or off" })).transform((v) => v === "on") },
  instanceId: { names: ["INSTANCE_ID"], schema: optionalText },
  logLevel: { names: ["LOG_LEVEL"], schema: optionalText.transform((v) => v ?? "info").pipe(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "must be one of fatal, error, warn, info, debug, trace, silent" })) },
} as const;

type Variables = typeof variables;

/** Values never repeated in an error line: they may hold a token, a key or a password. */
const CREDENTIALS = new Set<keyof Variables>(["botToken", "databaseUrl", "redisUrl", "webhookSecret", "apiKey", "userHashSecret"]);
type Parsed = { [K in keyof Variables]: z.output<Variables[K]["schema"]> };

export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: string;
  /** the file as read, for firebase-admin's cert() */
  raw: Record<string, unknown>;
}

export interface Config extends Omit<Parsed, "fcmServiceAccountPath" | "publicWebappUrl" | "databaseUrl" | "redisUrl" | "instanceId"> {
  /** this instance's name in logs and /health: INSTANCE_ID, or host name and pid */
  instanceId: string;
  /** sqlite: one instance on a file (the default); postgres: one or more instances (SPEC §8) */
  databaseEngine: "sqlite" | "postgres";
  /** absolute path of the SQLite file; null on PostgreSQL */
  databasePath: string | null;
  /** file:<absolute path>, or the PostgreSQL URL as given (it may hold a password: never log it) */
  databaseUrl: string;
  /** several instances share Socket.IO rooms and rate limits through it (needs PostgreSQL) */
  redisUrl: string | null;
  publicWebappUrl: string;
  fcmServiceAccount: ServiceAccount | undefined;
  fcmServiceAccountPath: string | undefined;
  /** which of the aliases the bot token came from, for log lines */
  botTokenVariable: string;
  /** which of SERVER_PORT / PORT set the port, for error lines */
  portVariable: string;
  /** every inbound limit (RATE_LIMIT_* over the defaults; all off with RATE_LIMITS=off) */
  rateLimits: RateLimits;
}

type Env = Record<string, string | undefined>;

function pick(env: Env, names: readonly string[]): { name: string; value: string | undefined } {
  for (const name of names) {
    if (env[name] !== undefined) return { name, value: env[name] };
  }
  return { name: names[0] ?? "", value: undefined };
}

const serviceAccountFile = z.object({
  project_id: z.string().min(1),
  client_email: z.string().min(1),
  private_key: z.string().includes("PRIVATE KEY"),
});

function readServiceAccount(variable: string, file: string, cwd: string): ServiceAccount {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(variable, `cannot read the Firebase service account file ${full} (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(variable, `${full} is not JSON; download the service account key from Firebase Console → Project settings → Service accounts`);
  }
  const parsed = serviceAccountFile.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(variable, `${full} is not a Firebase service account key (needs project_id, client_email and private_key)`);
  }
  return {
    projectId: parsed.data.project_id,
    clientEmail: parsed.data.client_email,
    privateKey: parsed.data.private_key,
    raw: json as Record<string, unknown>,
  };
}

/** The RATE_LIMIT_* variables over the defaults; RATE_LIMITS=off wins over all of them. */
function parseRateLimits(env: Env, enabled: boolean): RateLimits {
  if (!enabled) return NO_RATE_LIMITS;
  let limits = DEFAULT_RATE_LIMITS;
  for (const variable of RATE_LIMIT_VARIABLES) {
    const value = env[variable.name];
    if (value === undefined || value.trim() === "") continue;
    const rule = parseRateRule(value);
    if (rule === undefined) throw new ConfigError(variable.name, `${RATE_RULE_FORMAT} (got ${JSON.stringify(value)})`);
    limits = applyRateRule(limits, variable, rule);
  }
  return limits;
}

/** Days since 1970-01-01 (UTC): the default cache-busting version for the Mini App URL. */
export function dayNumber(now = Date.now()): string {
  return String(Math.floor(now / 86_400_000));
}

export function parseConfig(env: Env, cwd = process.cwd()): Config {
  const parsed: Partial<Record<keyof Variables, unknown>> = {};
  const spelled: Partial<Record<keyof Variables, string>> = {};
  for (const key of Object.keys(variables) as (keyof Variables)[]) {
    const { names, schema } = variables[key];
    const { name, value } = pick(env, names);
    spelled[key] = name;
    const result = (schema as z.ZodType).safeParse(value);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? "is not valid";
      // A mistyped token or database URL is still a secret: say what is wrong, not what it was.
      throw new ConfigError(name, CREDENTIALS.has(key) ? reason : `${reason} (got ${JSON.stringify(value)})`);
    }
    parsed[key] = result.data;
  }
  const values = parsed as Parsed;
  const onPostgres = !values.databaseUrl.startsWith("file:");
  const databasePath = onPostgres ? null : path.resolve(cwd, values.databaseUrl.replace(/^file:/, ""));
  if (values.redisUrl && !onPostgres) {
    throw new ConfigError(spelled.redisUrl ?? "REDIS_URL", "needs DATABASE_URL=postgres://…: instances that share Redis must share one PostgreSQL database, not a SQLite file each");
  }
  const fcmServiceAccount = values.fcmServiceAccountPath
    ? readServiceAccount(spelled.fcmServiceAccountPath ?? "FCM_SERVICE_ACCOUNT_PATH", values.fcmServiceAccountPath, cwd)
    : undefined;
  return {
    ...values,
    uploadDir: path.resolve(cwd, values.uploadDir),
    databaseEngine: onPostgres ? "postgres" : "sqlite",
    databasePath,
    databaseUrl: databasePath === null ? values.databaseUrl : `file:${databasePath}`,
    redisUrl: values.redisUrl ?? null,
    publicWebappUrl: values.publicWebappUrl ?? `http://localhost:${values.port}/`,
    instanceId: values.instanceId ?? `${hostname()}-${process.pid}`,
    fcmServiceAccount,
    botTokenVariable: spelled.botToken ?? "BOT_TOKEN",
    portVariable: spelled.port ?? "SERVER_PORT",
    rateLimits: parseRateLimits(env, values.rateLimitsEnabled),
  };
}

/** Loads `.env` (without overriding real environment variables) and parses the result. */
export function loadConfig(cwd = process.cwd()): Config {
  const envFile = path.join(cwd, ".env");
  const fromFile: Env = {};
  if (existsSync(envFile)) {
    try {
      // util.parseEnv is Node's own dotenv parser (20.12+).
      Object.assign(fromFile, parseEnv(readFileSync(envFile, "utf8")));
    } catch (error) {
      throw new ConfigError(".env", `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  return parseConfig({ ...fromFile, ...process.env }, cwd);
}
