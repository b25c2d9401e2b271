// A tiny method + path router for the routes the custom server answers
// itself (the mobile REST API and uploads). Paths are literal segments or
// ":param" segments, and a final "*" that matches one or more segments.
import type { IncomingMessage, ServerResponse } from "node:http";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

export interface RouteMatch {
  handler: RouteHandler;
  params: Record<string, string>;
  pattern: string;
}

interface Route {
  method: string;
  /** as registered, e.g. "/message_history/:user_id": a bounded label for logs and metrics */
  pattern: string;
  segments: string[];
  handler: RouteHandler;
}

export class Router {
  private readonly routes: Route[] = [];

  /** Every registered route, in order (the OpenAPI test checks each one is documented). */
  list(): { method: string; pattern: string }[] {
    return this.routes.map(({ method, pattern }) => ({ method, pattern }));
  }

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, pattern, segments: pattern.split("/").filter(Boolean), handler });
    return this;
  }

  /** The handler, params and pattern for a request, "method" when only the method is wrong, or null. */
  match(method: string, pathname: string): RouteMatch | "method" | null {
    const parts = pathname.split("/").filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method === method || (route.method === "GET" && method === "HEAD")) return { handler: route.handler, params, pattern: route.pattern };
    }
    return pathMatched ? "method" : null;
  }
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | null {
  const rest = segments[segments.length - 1] === "*";
  if (rest ? parts.length < segments.length : segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const part = parts[i] as string;
    if (segment === "*") break;
    if (segment.startsWith(":")) {
      try {
        params[segment.slice(1)] = decodeURIComponent(part);
      } catch {
        return null;
      }
    } else if (segment !== part) return null;
  }
  return params;
}
