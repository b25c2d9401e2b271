// The production build (build/server/*.js + .next) started the way
// server/main.ts starts it, with one difference: the inbound rate limits are
// raised so far that a benchmark from one loopback address with a few
// thousand synthetic users is never refused. The limiter still runs on every
// request (same limiters, same code path; only the thresholds differ), so
// its cost is measured; what is not measured is the refusal path.
//
// Why not `node build/server/main.js`: the limits are an AppOptions field
// only, with no environment variable, and per-address limits (300 sends a
// minute) would refuse the load within a second.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import nextModule from "next";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const build = (file) => import(pathToFileURL(path.join(root, "build", "server", file)).href);
const { createApp } = await build("app.js");
const { loadConfig } = await build("config/env.js");
const { createLogger } = await build("logger.js");

const HUGE = 1_000_000_000;
const rule = { points: HUGE, windowSeconds: 60 };
const burstRule = { ...rule, burstPoints: HUGE, burstWindowSeconds: 600 };
const rateLimits = {
  perUser: { send: burstRule, read: rule, register: rule },
  perIp: { send: rule, read: rule, register: rule, uploads: rule },
};

const config = loadConfig(root);
const secrets = [config.botToken, config.apiKey, config.webhookSecret].filter(Boolean);
const logger = createLogger({ level: config.logLevel, secrets });
const createNextServer = nextModule.default ?? nextModule;
const pages = createNextServer({ dev: false, dir: root, hostname: config.host, port: config.port, customServer: true, quiet: true });
await pages.prepare();
const handlePage = pages.getRequestHandler();
const app = await createApp({ config, logger, projectRoot: root, pages: (req, res) => handlePage(req, res), rateLimits });
const address = await app.listen();
logger.info({ port: address.port }, "bench: listening");

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  app
    .close(10_000)
    .then(() => pages.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
