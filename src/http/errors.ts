// The one place where errors become HTTP responses. Every layer throws errors
// with a stable `code`; this table chooses the status.

/** An error of the HTTP layer itself (bad body, unknown route...). */
export class HttpError extends Error {
  readonly code: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // host
  ERR_HANDLER_FAILED: 500,
  ERR_HANDLER_TIMEOUT: 504,
  ERR_WORKER_RESTARTED: 503,
  ERR_OVERLOADED: 503,
  ERR_STOPPING: 503,
  ERR_UNKNOWN_COMMAND: 404,
  ERR_BAD_REQUEST: 400,
  // storage
  ERR_BACKPRESSURE: 503,
  ERR_DISK_FULL: 507,
  ERR_MAP_FULL: 507,
  ERR_WRITER_CONFLICT: 503,
  ERR_STORE_CLOSED: 503,
  ERR_COMMIT_FAILED: 500,
  ERR_KEY_TOO_LARGE: 400,
  ERR_KEY_NAN: 400,
  // query
  ERR_PARAM_MISSING: 400,
  ERR_PARAM_TYPE: 400,
  ERR_TOO_MANY_ROWS: 400,
  ERR_PAGE_TOKEN_INVALID: 400,
  ERR_PARAM_VALUE: 400,
  ERR_TOO_MANY_RANGES: 400,
  ERR_NOT_UNIQUE: 500,
  ERR_VIEW_BUILDING: 503,
  ERR_UNKNOWN_QUERY: 404,
};

export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: { readonly code: string; readonly message: string; readonly errorId?: string } };
  /** Whether this is the server's fault (logged with its stack). */
  readonly internal: boolean;
}

export function toErrorResponse(error: unknown): ErrorResponse {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown; status?: unknown; message?: unknown; errorId?: unknown; retryAfterMs?: unknown; headers?: unknown; name?: unknown;
  };
  const code = typeof e.code === "string" ? e.code : "ERR_INTERNAL";
  const message = typeof e.message === "string" ? e.message : "internal error";
  let status: number;
  if (error instanceof HttpError) status = error.status;
  // A handler's chosen 4xx: its status is the user's decision.
  else if (e.name === "CommandRejected" && typeof e.status === "number") status = e.status;
  else status = STATUS_BY_CODE[code] ?? 500;
  const headers: Record<string, string> = { ...(error instanceof HttpError ? error.headers : {}) };
  if (typeof e.retryAfterMs === "number") headers["retry-after"] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)));
  const known = status !== 500 || code === "ERR_HANDLER_FAILED";
  const errorId = typeof e.errorId === "string" ? e.errorId : undefined;
  return {
    status,
    headers,
    // An unexpected error's message may hold internals: the client sees a generic one.
    body: { error: { code: known ? code : "ERR_INTERNAL", message: known ? message : "internal error", ...(errorId ? { errorId } : {}) } },
    internal: !known,
  };
}

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 411: "Length Required", 413: "Payload Too Large", 415: "Unsupported Media Type",
  422: "Unprocessable Entity", 429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
  503: "Service Unavailable", 504: "Gateway Timeout", 507: "Insufficient Storage",
};

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? "Status"}`;
}
