// Errors sent over the WebSocket (and SSE): the same codes and statuses as
// HTTP responses (errors.ts), plus the query and live-query codes, which
// carry their message to the client. An unexpected error is logged with an
// error id; the client gets ERR_INTERNAL and that id, never internals.
import { randomUUID } from "node:crypto";
import { toErrorResponse } from "./errors.js";

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly status: number;
  readonly errorId?: string;
}

/** Codes of the query layer and of live queries: the client's input or the query's contract. */
const CLIENT_CODES: Readonly<Record<string, number>> = {
  ERR_PARAM_MISSING: 400,
  ERR_PARAM_TYPE: 400,
  ERR_PARAM_VALUE: 400,
  ERR_PAGE_TOKEN_INVALID: 400,
  ERR_TOO_MANY_ROWS: 400,
  ERR_TOO_MANY_RANGES: 400,
  ERR_NOT_UNIQUE: 500,
  ERR_UNKNOWN_QUERY: 404,
  ERR_NOT_LIVE: 400,
  ERR_QUERY_REMOVED: 404,
  ERR_BAD_MESSAGE: 400,
};

type Log = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export function toWireError(error: unknown, log: Log): WireError {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === "string" && Object.hasOwn(CLIENT_CODES, e.code) && typeof e.message === "string") {
    return { code: e.code, message: e.message, status: CLIENT_CODES[e.code] as number };
  }
  const r = toErrorResponse(error);
  if (r.internal) {
    const errorId = randomUUID();
    log("error", `internal error (error id ${errorId}): ${error instanceof Error ? error.message : String(error)}`, {
      errorId, stack: error instanceof Error ? error.stack : undefined,
    });
    return { code: r.body.error.code, message: r.body.error.message, status: r.status, errorId };
  }
  return { code: r.body.error.code, message: r.body.error.message, status: r.status, ...(r.body.error.errorId !== undefined ? { errorId: r.body.error.errorId } : {}) };
}
