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

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, segments: pattern.split("/").filter(Boolean), handler });
    return this;
  }

  /** The handler and params for a request, "method" when only the method is wrong, or null. */
  match(method: string, pathname: string): { handler: RouteHandler; params: Record<string, string> } | "method" | null {
    const parts = pathname.split("/").filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method === method || (route.method === "GET" && method === "HEAD")) return { handler: route.handler, params };
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
