// Errors of streamed HTTP responses: before the first byte, a normal JSON
// error response; after it, the stream's own way to say it (see callers).
import { toErrorResponse } from "./errors.js";
import type { StreamWriter } from "./stream-writer.js";
import { toWireError } from "./ws-errors.js";

export type Log = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export function errorBody(error: unknown, log: Log): { code: string; message: string; errorId?: string } {
  const w = toWireError(error, log);
  return { code: w.code, message: w.message, ...(w.errorId !== undefined ? { errorId: w.errorId } : {}) };
}

/** An error before anything was streamed: a normal JSON error response. */
export function writeError(out: StreamWriter, error: unknown, log: Log): void {
  const w = toWireError(error, log);
  out.start(w.status, { ...toErrorResponse(error).headers, "content-type": "application/json" });
  out.end(JSON.stringify({ error: { code: w.code, message: w.message, ...(w.errorId !== undefined ? { errorId: w.errorId } : {}) } }));
}
