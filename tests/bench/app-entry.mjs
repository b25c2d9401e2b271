// The production build (build/server/service.js + .next), started the way
// server/main.ts starts it, with one difference: the inbound rate limits are
// raised so far that a benchmark from one loopback address with a few
// thousand synthetic users is never refused. The limiter still runs on every
// request (same limiters, same code path; only the thresholds differ), so
// its cost is measured; what is not measured is the refusal path.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stopOnSignals } from "../fixtures/stop-on-signals.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const { startService } = await import(pathToFileURL(path.join(root, "build", "server", "service.js")).href);

const HUGE = 1_000_000_000;
const rule = { points: HUGE, windowSeconds: 60 };
const burstRule = { ...rule, burstPoints: HUGE, burstWindowSeconds: 600 };
const rateLimits = {
  perUser: { send: burstRule, read: rule, register: rule, diary: rule },
  perIp: { send: rule, read: rule, register: rule, uploads: rule, diary: rule, join: rule },
  perSocket: { join: rule },
};

const service = await startService({ app: { rateLimits } });
service.app.logger.info({ port: service.address.port }, "bench: listening");

stopOnSignals(service);
