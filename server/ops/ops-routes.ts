// The operator's endpoints (SPEC §9): /metrics for Prometheus, /ready for a
// load balancer, /openapi.json for the mobile team's client generators.
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { errorAnswer } from "../http/mobile-answers.js";
import { sendJson } from "../http/respond.js";
import type { Router } from "../http/router.js";
import type { ServiceMetrics } from "./metrics.js";
import type { RouteDoc } from "./openapi.js";
import { checkReadiness, type ReadinessCheck } from "./readiness.js";

export interface OpsRouteDeps {
  metrics: ServiceMetrics;
  readinessChecks: readonly ReadinessCheck[];
  /** built once, on first request */
  openApiDocument: () => Record<string, unknown>;
  /** throws UNAUTHORIZED when API_KEY is set and the request lacks it */
  requireApiKey: (req: IncomingMessage) => void;
}

export const readyAnswer = z.object({ status: z.literal("ready") });
export const notReadyAnswer = z.object({ status: z.literal("not_ready"), reason: z.string().describe("which dependency failed, and how") });

export function registerOpsRoutes(router: Router, deps: OpsRouteDeps): void {
  let document: string | null = null;
  router
    .on("GET", "/metrics", async ({ req, res }) => {
      deps.requireApiKey(req);
      const { contentType, body } = await deps.metrics.exposition();
      res.writeHead(200, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body), "Cache-Control": "no-store" });
      res.end(body);
    })
    .on("GET", "/ready", async ({ res }) => {
      const readiness = await checkReadiness(deps.readinessChecks);
      if (readiness.ready) sendJson(res, 200, { status: "ready" } satisfies z.output<typeof readyAnswer>);
      else sendJson(res, 503, { status: "not_ready", reason: readiness.reason } satisfies z.output<typeof notReadyAnswer>);
    })
    .on("GET", "/openapi.json", ({ res }) => {
      document ??= JSON.stringify(deps.openApiDocument());
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(document), "Cache-Control": "no-cache" });
      res.end(document);
    });
}

export const opsApiDoc: RouteDoc[] = [
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (text exposition format)",
    tags: ["operations"],
    auth: "apiKey",
    responses: {
      "200": { description: "the metrics", contentType: "text/plain; version=0.0.4", schema: z.string() },
      "401": { description: "API_KEY is set and the request lacks the key", schema: errorAnswer },
    },
  },
  {
    method: "get",
    path: "/ready",
    summary: "Readiness: the database (and Redis, when configured) answers",
    description: "For load balancers: 503 takes the instance out of rotation. /health is the liveness check.",
    tags: ["operations"],
    auth: "none",
    responses: {
      "200": { description: "ready to serve", schema: readyAnswer },
      "503": { description: "a dependency does not answer", schema: notReadyAnswer },
    },
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    tags: ["operations"],
    auth: "none",
    responses: { "200": { description: "OpenAPI 3.1", schema: z.record(z.string(), z.unknown()) } },
  },
];
