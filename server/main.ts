// The service's entry: one Node process, one HTTP server at
// SERVER_HOST:SERVER_PORT carrying the Mini App (Next.js), the REST and tRPC
// APIs, the Telegram webhook and Socket.IO, plus the background delivery.
// This file owns the process: the operator's one-line errors, signals, exit.
import { writeSync } from "node:fs";
import { secretsOf } from "./app.js";
import { ConfigError, loadConfig } from "./config/env.js";
import { scrubSecrets, type Logger } from "./logger.js";
import { findProjectRoot } from "./project-root.js";
import { startService, type Service } from "./service.js";

const SHUTDOWN_TIMEOUT_MS = 10_000;

function fail(line: string): never {
  // Synchronous: process.exit() would drop a pending write to a pipe.
  writeSync(2, `${line}\n`);
  process.exit(1);
}

/** The listen errors an operator can fix, as one line naming the setting. */
function listenErrorLine(code: string | undefined): string | null {
  let config;
  try {
    config = loadConfig(findProjectRoot());
  } catch {
    return null;
  }
  if (code === "EADDRINUSE") return `${config.portVariable}: port ${config.port} on ${config.host} is already in use`;
  if (code === "EACCES") return `${config.portVariable}: not allowed to listen on port ${config.port}`;
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") return `SERVER_HOST: cannot listen on ${config.host} (${code})`;
  return null;
}

/** Set once the service runs: fatal errors then also go to the JSON log, with their stack. */
let serviceLogger: Logger | null = null;

function secretsForCrashLine(): string[] {
  try {
    return secretsOf(loadConfig(findProjectRoot()));
  } catch {
    return [];
  }
}

/**
 * A rejection nobody awaited or an exception nobody caught leaves the process
 * in a state nothing vouches for: say what happened, then exit non-zero so
 * the supervisor (systemd, Docker, PM2) starts a clean one. Undelivered
 * messages are durable in the outbox and go out after the restart.
 */
function crash(kind: string, error: unknown): never {
  const message = scrubSecrets(error instanceof Error ? error.message : String(error), secretsForCrashLine());
  serviceLogger?.fatal({ err: error }, `${kind}: exiting so the service can be restarted clean`);
  fail(`Fatal: ${kind}: ${message}; exiting so a supervisor can restart the service`);
}

process.on("unhandledRejection", (reason) => crash("unhandled promise rejection", reason));
process.on("uncaughtException", (error) => crash("uncaught exception", error));

async function main(): Promise<void> {
  let service: Service;
  try {
    service = await startService({ dev: process.argv.includes("--dev") });
  } catch (error) {
    if (error instanceof ConfigError) fail(`Configuration error: ${error.message}`);
    const line = listenErrorLine((error as NodeJS.ErrnoException).code);
    if (line) fail(`Configuration error: ${line}`);
    fail(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { logger } = service.app;
  serviceLogger = logger;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing requests and sends in flight");
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting anyway");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS + 2_000);
    force.unref();
    service.stop(SHUTDOWN_TIMEOUT_MS).then(
      () => {
        logger.info("stopped cleanly");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
