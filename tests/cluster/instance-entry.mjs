// One instance of the cluster: the production build (build/server/service.js
// + .next) started the way server/main.ts starts it, configured by the
// environment, with one addition: when FCM_STAND_IN_PORT is set, push goes
// to the test's FCM stand-in (firebase-admin's FCM host is fixed, so the
// stand-in's transport is rebuilt here from its port and access token, as
// tests/fixtures/fcm-stand-in.ts's StandInAgent does in-process). Plain
// JavaScript: no TypeScript loader in the production process.
import { Agent } from "node:https";
import path from "node:path";
import { connect } from "node:tls";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stopOnSignals } from "../fixtures/stop-on-signals.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const { startService } = await import(pathToFileURL(path.join(root, "build", "server", "service.js")).href);

const FCM_HOST = "fcm.googleapis.com";

class StandInAgent extends Agent {
  constructor(port) {
    super({ keepAlive: true });
    this.port = port;
  }

  createConnection(options) {
    const host = options.hostname ?? options.host;
    if (host !== FCM_HOST) throw new Error(`FCM stand-in agent: refusing a connection to ${String(host)}`);
    return connect({ host: "127.0.0.1", port: this.port, servername: FCM_HOST, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
  }
}

const fcmPort = Number(process.env.FCM_STAND_IN_PORT ?? 0);
const accessToken = process.env.FCM_STAND_IN_TOKEN ?? "";
const pushTransport = fcmPort
  ? { credential: { getAccessToken: () => Promise.resolve({ access_token: accessToken, expires_in: 3600 }) }, httpAgent: new StandInAgent(fcmPort) }
  : undefined;

const service = await startService({ app: pushTransport ? { pushTransport } : {} });
process.stdout.write(`READY ${service.address.port}\n`);

stopOnSignals(service);
