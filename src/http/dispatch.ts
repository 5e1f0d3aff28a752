// What a request means, whatever the transport: the route it matches, its
// body, the call it makes. Shared by uws-server.ts and node-server.ts.
import { HttpError } from "./errors.js";
import type { Router } from "./router.js";
import type { CallRequest, RouteTarget, Service } from "./service.js";

export interface RoutedRequest extends CallRequest {
  readonly method: string;
  readonly path: string;
  readonly target: RouteTarget;
}

export type RouteMatch = { readonly value: RouteTarget; readonly params: Record<string, string> };

/**
 * The route of `method url`, or the 404 / 405 to answer. `routedRequest` then
 * adds the rest of the request — a caller may first answer from the match
 * alone (a kept reply, `cachedReply`) without reading the headers.
 */
export function matchRoute(router: Router<RouteTarget>, method: string, url: string): RouteMatch | HttpError {
  const lookup = router.lookup(method, url);
  if (lookup.kind === "not-found") return new HttpError(404, "ERR_NOT_FOUND", `no route for ${method} ${url}`);
  if (lookup.kind === "method-not-allowed") {
    return new HttpError(405, "ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on ${url}; allowed: ${lookup.allow.join(", ")}`, { allow: lookup.allow.join(", ") });
  }
  return lookup.match;
}

export function routedRequest(method: string, url: string, match: RouteMatch, query: string, headers: Record<string, string>): RoutedRequest {
  return { method, path: url, target: match.value, params: match.params, query: parseQuery(query), headers };
}

/** A GET of a command route answered from a kept reply: its JSON, or undefined. */
export function cachedReply(service: Service, method: string, match: RouteMatch): string | undefined {
  const t = match.value;
  if (method !== "GET" || t.kind !== "command" || service.cachedReplyJson === undefined) return undefined;
  return service.cachedReplyJson(t.component, t.command, match.params[t.key] ?? "");
}

/** Methods whose body is not read. */
export function hasNoBody(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "DELETE";
}

export function tooLarge(max: number): HttpError {
  return new HttpError(413, "ERR_BODY_TOO_LARGE", `the request body is larger than ${max} bytes (--body-limit)`);
}

/**
 * A request body as the handler gets it: JSON; or, for a text/* body that is
 * not JSON, the string (fetch and curl send JSON as text/plain or form types,
 * so JSON is tried first). Anything else that is not JSON is a 400.
 */
export function parseBody(body: Buffer, contentType: string | undefined): { value: unknown } | HttpError {
  if (body.length === 0) return { value: undefined };
  const text = body.toString("utf8");
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    if ((contentType ?? "").startsWith("text/")) return { value: text };
    return new HttpError(400, "ERR_BAD_JSON", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Runs a command or endpoint route. */
export function call(service: Service, request: RoutedRequest, body: unknown): Promise<unknown> {
  const t = request.target;
  if (t.kind === "command") return service.command(t.component, t.command, request.params[t.key] ?? "", body, request);
  if (t.kind === "endpoint") return service.endpoint(t.endpoint, t.route, { ...request, body });
  return Promise.reject(new Error("a query route is not a call"));
}

/** Runs a query route to completion: the JSON to answer (throws errors with a `code`). */
export function queryJson(service: Service, request: RoutedRequest): unknown {
  const t = request.target;
  if (t.kind !== "query") throw new Error("not a query route");
  const result = service.query(t.view, t.query, { ...request.query, ...request.params });
  if (result.shape === "single") {
    const first = result.rows[Symbol.iterator]().next();
    if (first.done) throw new HttpError(404, "ERR_NOT_FOUND", `no row matches ${t.view}.${t.query}`);
    return first.value;
  }
  return Array.from(result.rows);
}

export function parseQuery(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!query) return out;
  for (const [k, v] of new URLSearchParams(query)) out[k] = v;
  return out;
}
