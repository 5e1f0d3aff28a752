// What the HTTP layer serves: a set of routes and the calls behind them. The
// host's Runtime implements it; tests may implement it with a stub.

export type RouteTarget =
  | { readonly kind: "command"; readonly component: string; readonly command: string; readonly key: string }
  | { readonly kind: "query"; readonly view: string; readonly query: string }
  | { readonly kind: "endpoint"; readonly endpoint: string; readonly route: string };

export interface RouteSpec {
  readonly method: string;
  /** A pattern such as "/customers/:id". */
  readonly path: string;
  readonly target: RouteTarget;
}

export interface CallRequest {
  readonly params: Record<string, string>;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
}

export interface QueryResult {
  /** "list": a JSON array; "single": the one row, or a 404 when there is none. */
  readonly shape: "list" | "single";
  readonly rows: Iterable<Record<string, unknown>>;
}

export interface Service {
  routes(): readonly RouteSpec[];
  /** Runs a command; resolves once its effects are durable. Errors carry a stable `code`. */
  command(component: string, command: string, id: string, body: unknown, request: CallRequest): Promise<unknown>;
  /**
   * Optional fast path: the JSON reply of a command called without a body
   * when it is already known (a pure command's kept reply), else undefined —
   * then `command` runs it. Counts the call as `command` would.
   */
  cachedReplyJson?(component: string, command: string, id: string): string | undefined;
  /** Runs an endpoint route; resolves with the JSON response body. */
  endpoint(endpoint: string, route: string, request: CallRequest & { method: string; path: string; body: unknown }): Promise<unknown>;
  /** Runs a view query on a consistent snapshot. Throws errors with a stable `code`. */
  query(view: string, query: string, params: Record<string, string>): QueryResult;
  /** Views and their build status, for /_calyx/views. */
  viewStatus(): unknown;
  /** Prometheus text for /_calyx/metrics. */
  metrics(): string;
}
