// Starts the whole service in this process: Next.js for the Mini App pages
// and the app (API routes, Socket.IO, workers) on one HTTP server. Process
// concerns (signals, exit codes, the operator's error line) are main.ts's;
// the benchmark starts the same service with its own options.
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Duplex } from "node:stream";
import nextModule from "next";
import type { NextServer, NextServerOptions } from "next/dist/server/next.js";
import { createApp, secretsOf, type App, type AppOptions } from "./app.js";
import { loadConfig } from "./config/env.js";
import { pageHeadersForBuild, pageHeadersForDev, withPageHeaders } from "./http/page-headers.js";
import { createLogger } from "./logger.js";
import { findProjectRoot } from "./project-root.js";

/** engine.io's own test: the request path begins with its path plus "/". */
const SOCKET_IO_PATH = "/socket.io/";

// next is CommonJS (module.exports = createServer); under NodeNext typing the
// default import is seen as the module namespace, at run time it is the function.
const createNextServer = ((nextModule as unknown as { default?: unknown }).default ?? nextModule) as (options: NextServerOptions) => NextServer;

export interface ServiceOptions {
  dev?: boolean;
  /** extra options for the app (the benchmark raises the rate limits) */
  app?: Omit<AppOptions, "config" | "logger" | "projectRoot" | "pages">;
}

export interface Service {
  app: App;
  address: AddressInfo;
  /** graceful stop of the app, then of Next.js */
  stop(timeoutMs: number): Promise<void>;
}

/** Throws ConfigError for bad configuration and the listen error (EADDRINUSE…) as is. */
export async function startService({ dev = false, app: appOptions = {} }: ServiceOptions = {}): Promise<Service> {
  const projectRoot = findProjectRoot();
  const config = loadConfig(projectRoot);
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config) });

  const pages = createNextServer({ dev, dir: projectRoot, hostname: config.host, port: config.port, customServer: true, quiet: !dev });
  await pages.prepare();
  // Every page Next answers carries the security headers (why here: http/page-headers.ts).
  const handlePage = withPageHeaders(pages.getRequestHandler(), dev ? pageHeadersForDev() : pageHeadersForBuild(path.join(projectRoot, ".next")));
  const app = await createApp({ ...appOptions, config, logger, projectRoot, pages: (req, res) => handlePage(req, res) });

  if (dev) {
    // Next's dev server keeps its hot-reload socket open through upgrades;
    // engine.io (attached with destroyUpgrade: false) takes the ones under
    // SOCKET_IO_PATH and leaves the rest alone, so each upgrade has exactly
    // one owner.
    const upgrade = pages.getUpgradeHandler();
    app.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!req.url?.startsWith(SOCKET_IO_PATH)) void upgrade(req, socket, head);
    });
  }

  let address: AddressInfo;
  try {
    address = await app.listen();
  } catch (error) {
    await app.close(1_000);
    await pages.close();
    throw error;
  }
  logger.info({ host: address.address, port: address.port, dev }, `listening on http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${address.port}`);
  return {
    app,
    address,
    async stop(timeoutMs) {
      await app.close(timeoutMs);
      await pages.close();
    },
  };
}
