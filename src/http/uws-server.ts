// The HTTP server on uWebSockets.js. Routing, body limits, JSON in and out,
// and error responses happen here; everything else is the Service's.
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type * as UWS from "uWebSockets.js";
import { HttpError, statusLine, toErrorResponse } from "./errors.js";
import { cachedReply, call, hasNoBody, matchRoute, parseBody, queryJson, routedRequest, tooLarge, type RoutedRequest } from "./dispatch.js";
import { Router } from "./router.js";
import type { RouteSpec, RouteTarget, Service } from "./service.js";

export interface HttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Largest request body accepted; larger ones get 413. */
  readonly bodyBytesMax: number;
  readonly log: (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
  /** Registers more handlers (WebSocket, streams) before the catch-all route. */
  readonly extend?: (app: UWS.TemplatedApp) => void;
  /**
   * Answers a query route itself (streamed: JSON array, NDJSON, SSE) and
   * returns true, or returns false to let the buffered JSON path answer.
   */
  readonly streamQuery?: (res: UWS.HttpResponse, query: { view: string; query: string; params: Record<string, string>; headers: Record<string, string> }) => boolean;
}

/** Raised when the port cannot be bound (in use, or not permitted). */
export class ListenError extends Error {
  readonly code = "ERR_LISTEN";
}

type Route = RouteTarget;

export class UwsServer {
  readonly #options: HttpOptions;
  readonly #service: Service;
  #router = new Router<Route>();
  #app: UWS.TemplatedApp | undefined;
  #listenSocket: UWS.us_listen_socket | undefined;
  #uws: typeof UWS | undefined;
  #inFlight = 0;
  /** Set by stop(): requests still arriving on open keep-alive connections get a 503. */
  #closing = false;
  #idle: (() => void) | undefined;
  port = 0;

  constructor(service: Service, options: HttpOptions) {
    this.#service = service;
    this.#options = options;
    this.setRoutes(service.routes());
  }

  /** Replaces the routing table (hot reload); requests in flight keep their route. */
  setRoutes(routes: readonly RouteSpec[]): void {
    const router = new Router<Route>();
    for (const r of routes) router.add(r.method, r.path, r.target);
    this.#router = router;
  }

  async start(): Promise<{ port: number }> {
    const uws = loadUws();
    this.#uws = uws;
    const app = uws.App();
    this.#app = app;
    app.get("/_calyx/health", (res) => {
      res.writeHeader("content-type", "application/json").end('{"status":"ok"}');
    });
    app.get("/_calyx/views", (res) => {
      res.writeHeader("content-type", "application/json").end(JSON.stringify(this.#service.viewStatus()));
    });
    app.get("/_calyx/metrics", (res) => {
      res.writeHeader("content-type", "text/plain; version=0.0.4").end(this.#service.metrics());
    });
    this.#options.extend?.(app);
    app.any("/*", (res, req) => this.#handle(res, req));
    const socket = await new Promise<UWS.us_listen_socket | false>((resolve) => {
      // Exclusive: uWS shares a busy port (SO_REUSEPORT) unless told not to.
      // (The typings lack the host + options overload; the native binding has it.)
      const listen = app.listen.bind(app) as unknown as (h: string, p: number, o: number, cb: (s: UWS.us_listen_socket | false) => void) => void;
      listen(this.#options.host, this.#options.port, LISTEN_EXCLUSIVE_PORT, resolve);
    });
    if (!socket) {
      throw new ListenError(`cannot listen on ${this.#options.host}:${this.#options.port}: the port is in use (or the address is not available); pick another with --port`);
    }
    this.#listenSocket = socket;
    this.port = uws.us_socket_local_port(socket);
    return { port: this.port };
  }

  /** Stops accepting connections, then waits (bounded) for in-flight requests. */
  async stop(drainMs = 5000): Promise<void> {
    this.#closing = true;
    if (this.#listenSocket && this.#uws) this.#uws.us_listen_socket_close(this.#listenSocket);
    this.#listenSocket = undefined;
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.#idle = () => { clearTimeout(timer); resolve(); };
      });
    }
    (this.#app as { close?: () => void } | undefined)?.close?.();
    this.#app = undefined;
  }

  #handle(res: UWS.HttpResponse, req: UWS.HttpRequest): void {
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const url = req.getUrl();
    if (this.#closing) {
      this.#sendError(res, new HttpError(503, "ERR_STOPPING", "the server is shutting down", { "retry-after": "1", connection: "close" }));
      return;
    }
    const match = matchRoute(this.#router, method, url);
    if (match instanceof HttpError) {
      this.#sendError(res, match);
      return;
    }
    // A pure command's kept reply: answered here, in this callback (uWS corks
    // it), with no promise, no abort handler and no serialization.
    const kept = cachedReply(this.#service, method, match);
    if (kept !== undefined) {
      res.writeHeader("content-type", "application/json").end(kept);
      return;
    }
    const routed = routedRequest(method, url, match, req.getQuery(), readHeaders(req));
    if (routed.target.kind === "query") {
      this.#query(res, routed);
      return;
    }
    const length = routed.headers["content-length"];
    if (length !== undefined && Number(length) > this.#options.bodyBytesMax) {
      this.#sendError(res, tooLarge(this.#options.bodyBytesMax));
      return;
    }
    const state = { aborted: false };
    res.onAborted(() => { state.aborted = true; });
    this.#begin();
    if (hasNoBody(method)) {
      this.#call(res, state, routed, undefined);
      return;
    }
    this.#readBody(res, state, (body) => {
      const parsed = parseBody(body, routed.headers["content-type"]);
      if (parsed instanceof HttpError) this.#finish(res, state, () => this.#writeError(res, parsed));
      else this.#call(res, state, routed, parsed.value);
    });
  }

  #call(res: UWS.HttpResponse, state: { aborted: boolean }, routed: RoutedRequest, body: unknown): void {
    call(this.#service, routed, body).then(
      (value) => this.#finish(res, state, () => this.#writeJson(res, 200, value === undefined ? null : value)),
      (error: unknown) => this.#finish(res, state, () => this.#writeError(res, error)),
    );
  }

  #query(res: UWS.HttpResponse, routed: RoutedRequest): void {
    const target = routed.target;
    const stream = this.#options.streamQuery;
    if (target.kind === "query" && stream && stream(res, { view: target.view, query: target.query, params: { ...routed.query, ...routed.params }, headers: routed.headers })) return;
    try {
      this.#writeJson(res, 200, queryJson(this.#service, routed));
    } catch (error) {
      this.#writeError(res, error);
    }
  }

  #readBody(res: UWS.HttpResponse, state: { aborted: boolean }, done: (body: Buffer) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    res.onData((chunk, isLast) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > this.#options.bodyBytesMax) {
        refused = true;
        this.#finish(res, state, () => this.#writeError(res, tooLarge(this.#options.bodyBytesMax)));
        return;
      }
      // uWS reuses the chunk's memory after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
  }

  #begin(): void {
    this.#inFlight++;
  }

  #finish(res: UWS.HttpResponse, state: { aborted: boolean }, write: () => void): void {
    if (!state.aborted) {
      state.aborted = true; // responded: nothing more may be written
      res.cork(write);
    }
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idle) this.#idle();
  }

  #writeJson(res: UWS.HttpResponse, status: number, value: unknown): void {
    res.writeStatus(statusLine(status)).writeHeader("content-type", "application/json").end(JSON.stringify(value));
  }

  #writeError(res: UWS.HttpResponse, error: unknown): void {
    const response = toErrorResponse(error);
    let body = response.body;
    if (response.internal) {
      const errorId = randomUUID();
      this.#options.log("error", `internal error (error id ${errorId}): ${error instanceof Error ? error.message : String(error)}`, {
        errorId, stack: error instanceof Error ? error.stack : undefined,
      });
      body = { error: { ...body.error, errorId } };
    }
    res.writeStatus(statusLine(response.status));
    for (const [k, v] of Object.entries(response.headers)) res.writeHeader(k, v);
    res.writeHeader("content-type", "application/json").end(JSON.stringify(body));
  }

  #sendError(res: UWS.HttpResponse, error: unknown): void {
    this.#writeError(res, error);
  }
}



function readHeaders(req: UWS.HttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  req.forEach((k, v) => { out[k] = v; });
  return out;
}

declare global {
  // Set by the single-executable entry point (see src/host/worker-script.ts).
  var __calyxWorkerSource: string | undefined;
}

const LISTEN_EXCLUSIVE_PORT = 1; // uWS ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT

let cached: typeof UWS | undefined;

/** Raised when this platform has no native uWS build. */
export class UwsUnavailableError extends Error {
  readonly code = "ERR_UWS_UNAVAILABLE";
}

/**
 * Loads uWS, refusing the package's silent pure-JS fallback (used when it has
 * no binary for this platform and Node ABI): it would be slow without saying so.
 */
export function loadUws(): typeof UWS {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  if (globalThis.__calyxWorkerSource === undefined) {
    // Outside the single executable, check the binary the package would load.
    const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    try {
      require.resolve(binary);
    } catch {
      throw new UwsUnavailableError(`uWebSockets.js has no native build for ${process.platform}-${process.arch} on Node ABI ${process.versions.modules} (Node ${process.version}); Calyx supports Node 20 on linux-x64/arm64`);
    }
  }
  cached = require("uWebSockets.js") as typeof UWS;
  return cached;
}
