// The service's entry: one Node process, one HTTP server at
// SERVER_HOST:SERVER_PORT carrying the Mini App (Next.js), the REST and tRPC
// APIs, the Telegram webhook and Socket.IO, plus the background delivery.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import nextModule from "next";
import type { NextServer, NextServerOptions } from "next/dist/server/next.js";
import { createApp, secretsOf, type App } from "./app.js";
import { ConfigError, loadConfig, type Config } from "./config/env.js";
import { createLogger } from "./logger.js";
import { findProjectRoot } from "./project-root.js";

const SHUTDOWN_TIMEOUT_MS = 10_000;

// next is CommonJS (module.exports = createServer); under NodeNext typing the
// default import is seen as the module namespace, at run time it is the function.
const createNextServer = ((nextModule as unknown as { default?: unknown }).default ?? nextModule) as (options: NextServerOptions) => NextServer;

function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  const projectRoot = findProjectRoot();
  let config: Config;
  try {
    config = loadConfig(projectRoot);
  } catch (error) {
    if (error instanceof ConfigError) fail(`Configuration error: ${error.message}`);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config) });

  const pages = createNextServer({ dev, dir: projectRoot, hostname: config.host, port: config.port, customServer: true, quiet: !dev });
  await pages.prepare();
  const handlePage = pages.getRequestHandler();

  let app: App;
  try {
    app = await createApp({ config, logger, projectRoot, pages: (req, res) => handlePage(req, res) });
  } catch (error) {
    if (error instanceof ConfigError) fail(`Configuration error: ${error.message}`);
    logger.fatal({ err: error }, "the service could not start");
    fail(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  if (dev) {
    const upgrade = pages.getUpgradeHandler();
    app.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!req.url?.startsWith("/socket.io")) void upgrade(req, socket, head);
    });
  }

  try {
    const address = await app.listen();
    logger.info({ host: address.address, port: address.port, dev }, `listening on http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${address.port}`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") fail(`Configuration error: ${config.portVariable}: port ${config.port} on ${config.host} is already in use`);
    if (code === "EACCES") fail(`Configuration error: ${config.portVariable}: not allowed to listen on port ${config.port}`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") fail(`Configuration error: SERVER_HOST: cannot listen on ${config.host} (${code})`);
    throw error;
  }

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
    void app
      .close(SHUTDOWN_TIMEOUT_MS)
      .then(() => pages.close())
      .then(
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

main().catch((error: unknown) => {
  fail(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
});
