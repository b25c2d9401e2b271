// GET /openapi.json: an OpenAPI 3.1 document built from the zod schemas
// that validate the requests (and the zod schemas of the answers), so the
// document cannot drift from what the routes accept. Each edge declares its
// routes' entries next to its schemas (server/http/mobile-api-doc.ts,
// server/ops/ops-routes.ts); this file only assembles them.
//
// zod 4's own z.toJSONSchema rather than zod-openapi: zod-openapi 6 needs
// Node 22 and the service runs on Node 20; OpenAPI 3.1 takes JSON Schema
// 2020-12 as it is, so zod's native output needs no translation.
import { z } from "zod";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface ParameterDoc {
  name: string;
  in: "path" | "query" | "header";
  description: string;
  required?: boolean;
  schema: z.ZodType;
}

export interface ResponseDoc {
  description: string;
  /** JSON unless contentType says otherwise */
  schema?: z.ZodType;
  contentType?: string;
  headers?: Record<string, { description: string; schema: z.ZodType }>;
}

export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI's form: "/message_history/{user_id}" */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /** "apiKey": needs the key when the server has API_KEY set */
  auth: "apiKey" | "none";
  parameters?: ParameterDoc[];
  /** request bodies by media type; schemas are converted as input (before transforms) */
  body?: Partial<Record<"application/json" | "multipart/form-data", z.ZodType>>;
  /** by status code, or "default" for any other status */
  responses: Record<string, ResponseDoc>;
}

type JsonSchema = Record<string, unknown>;

/** zod's JSON Schema without the "$schema" key: OpenAPI 3.1's dialect is 2020-12 already. */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

function operation(route: RouteDoc): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const entry: JsonSchema = { description: response.description };
    if (response.schema) entry.content = { [response.contentType ?? "application/json"]: { schema: jsonSchemaOf(response.schema, "output") } };
    if (response.headers) {
      entry.headers = Object.fromEntries(Object.entries(response.headers).map(([name, h]) => [name, { description: h.description, schema: jsonSchemaOf(h.schema, "output") }]));
    }
    responses[status] = entry;
  }
  const op: JsonSchema = {
    operationId: `${route.method}${route.path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    summary: route.summary,
    tags: route.tags,
    responses,
  };
  if (route.description) op.description = route.description;
  if (route.auth === "apiKey") op.security = [{ apiKey: [] }, { bearerKey: [] }];
  if (route.parameters?.length) {
    op.parameters = route.parameters.map((p) => ({
      name: p.name,
      in: p.in,
      description: p.description,
      required: p.in === "path" ? true : (p.required ?? false),
      schema: jsonSchemaOf(p.schema, "input"),
    }));
  }
  if (route.body) {
    op.requestBody = {
      required: true,
      content: Object.fromEntries(Object.entries(route.body).map(([type, schema]) => [type, { schema: jsonSchemaOf(schema, "input") }])),
    };
  }
  return op;
}

export interface DocumentInfo {
  version: string;
  /** the public origin, when known, as the document's server */
  serverUrl?: string;
}

export function buildOpenApiDocument(routes: readonly RouteDoc[], info: DocumentInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`two OpenAPI entries for ${route.method.toUpperCase()} ${route.path}`);
    item[route.method] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Support bridge API",
      version: info.version,
      description:
        "The mobile app's REST API (support chat with a Telegram group) and the operator's endpoints. " +
        "Errors of the mobile routes are always {\"success\": false, \"error\": \"...\"}. " +
        "Routes marked with a security requirement need the key only when the server has API_KEY set.",
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "the server's API_KEY" },
        bearerKey: { type: "http", scheme: "bearer", description: "the server's API_KEY as a bearer token" },
      },
    },
  };
}
