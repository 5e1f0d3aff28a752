// Errors of live queries. Each carries a stable `code` that the WebSocket
// gateway sends to clients and that tests branch on (docs/protocol.md lists them).

export type LiveErrorCode =
  /** No view or no query with that name (after a reload: the query is gone). */
  | "ERR_UNKNOWN_QUERY"
  /** The query's result cannot be kept live (a page object, COUNT(*), or a window too large to hold). */
  | "ERR_NOT_LIVE"
  /** A live result grew past the query's row cap; the subscription ended. */
  | "ERR_TOO_MANY_ROWS"
  /** A `single` query's live result has more than one row; the subscription ended. */
  | "ERR_NOT_UNIQUE"
  /** After a hot reload the query no longer exists; the subscription ended. */
  | "ERR_QUERY_REMOVED"
  /** A one-shot query on a view that is being built (HTTP 503: retry shortly). */
  | "ERR_VIEW_BUILDING";

export class LiveError extends Error {
  override readonly name = "LiveError";
  readonly code: LiveErrorCode;
  constructor(code: LiveErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}
