// The HTTP transport on node:http (+ the `ws` package for /_calyx/ws, see
// ws-node.ts), for platforms with no uWebSockets.js build (musl, 32-bit ARM, a
// Node ABI uWS does not ship). Chosen explicitly with `--transport node` and
// logged: every route, the operator endpoints and live queries over WebSocket;
// query results are buffered, not streamed (no NDJSON/SSE live changes), and
// throughput is several times lower than with uWS.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cachedReply, call, hasNoBody, matchRoute, parseBody, queryJson, routedRequest, tooLarge, type RoutedRequest } from "./dispatch.js";
import { HttpError, statusLine, toErrorResponse } from "./errors.js";
import { Router } from "./router.js";
import type { RouteSpec, RouteTarget, Service } from "./service.js";
import { ListenError, type HttpOptions } from "./uws-server.js";

export class NodeHttpServer {
  readonly #service: Service;
  readonly #options: HttpOptions;
  #router = new Router<RouteTarget>();
  #server: Server | undefined;
  #closing = false;
  readonly #attach: ((server: Server) => () => void) | undefined;
  #detach: (() => void) | undefined;
  port = 0;

  /** `attach` adds upgrade handlers (WebSocket) to the server; it returns how to close them. */
  constructor(service: Service, options: HttpOptions, attach?: (server: Server) => () => void) {
    this.#attach = attach;
    this.#service = service;
    this.#options = options;
    this.setRoutes(service.routes());
  }

  setRoutes(routes: readonly RouteSpec[]): void {
    const router = new Router<RouteTarget>();
    for (const r of routes) router.add(r.method, r.path, r.target);
    this.#router = router;
  }

  async start(): Promise<{ port: number }> {
    const server = createServer({ maxHeaderSize: 16_384 }, (req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 5_000;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        reject(error.code === "EADDRINUSE" || error.code === "EADDRNOTAVAIL" || error.code === "EACCES"
          ? new ListenError(`cannot listen on ${this.#options.host}:${this.#options.port}: the port is in use (or the address is not available); pick another with --port`)
          : error);
      });
      server.listen({ host: this.#options.host, port: this.#options.port, exclusive: true }, resolve);
    });
    this.port = (server.address() as AddressInfo).port;
    // After listening: `ws` re-emits the server's errors, and a failed listen must stay one clear error.
    this.#detach = this.#attach?.(server);
    return { port: this.port };
  }

  async stop(drainMs = 5000): Promise<void> {
    this.#closing = true;
    this.#detach?.();
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { server.closeAllConnections(); resolve(); }, drainMs);
      server.close(() => { clearTimeout(timer); resolve(); });
      server.closeIdleConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const method = (req.method ?? "GET").toUpperCase();
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    if (this.#closing) return this.#error(res, new HttpError(503, "ERR_STOPPING", "the server is shutting down", { "retry-after": "1", connection: "close" }));
    if (method === "GET" && path === "/_calyx/health") return this.#json(res, 200, { status: "ok" });
    if (method === "GET" && path === "/_calyx/views") return this.#json(res, 200, this.#service.viewStatus());
    if (method === "GET" && path === "/_calyx/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(this.#service.metrics());
      return;
    }
    const match = matchRoute(this.#router, method, path);
    if (match instanceof HttpError) return this.#error(res, match);
    const kept = cachedReply(this.#service, method, match); // as uws-server.ts
    if (kept !== undefined) {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(kept) }).end(kept);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const routed = routedRequest(method, path, match, query, headers);
    if (routed.target.kind === "query") {
      try {
        this.#json(res, 200, queryJson(this.#service, routed));
      } catch (error) {
        this.#error(res, error);
      }
      return;
    }
    const length = Number(headers["content-length"] ?? 0);
    if (length > this.#options.bodyBytesMax) {
      this.#error(res, tooLarge(this.#options.bodyBytesMax));
      req.resume();
      return;
    }
    if (hasNoBody(method)) return this.#call(res, routed, undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.#options.bodyBytesMax) {
        this.#error(res, tooLarge(this.#options.bodyBytesMax));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (res.headersSent) return;
      const body = parseBody(Buffer.concat(chunks), headers["content-type"]);
      if (body instanceof HttpError) return this.#error(res, body);
      this.#call(res, routed, body.value);
    });
  }

  #call(res: ServerResponse, routed: RoutedRequest, body: unknown): void {
    call(this.#service, routed, body).then(
      (value) => this.#json(res, 200, value === undefined ? null : value),
      (error: unknown) => this.#error(res, error),
    );
  }

  #json(res: ServerResponse, status: number, value: unknown): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(value);
    res.writeHead(status, statusLine(status).slice(4), { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  }

  #error(res: ServerResponse, error: unknown): void {
    const response = toErrorResponse(error);
    let body = response.body;
    if (response.internal) {
      const errorId = randomUUID();
      this.#options.log("error", `internal error (error id ${errorId}): ${error instanceof Error ? error.message : String(error)}`, {
        errorId, stack: error instanceof Error ? error.stack : undefined,
      });
      body = { error: { ...body.error, errorId } };
    }
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(response.status, statusLine(response.status).slice(4), { ...response.headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  }
}
