// Errors of the query layer. Each carries a stable `code` that callers (the
// host, the HTTP layer, tests) branch on; the HTTP status is chosen in src/http.

/** Line and column (both 1-based) in the query's SQL text. */
export interface SqlPosition {
  readonly line: number;
  readonly column: number;
}

export type ViewCompileErrorCode =
  | "ERR_SQL_SYNTAX"
  | "ERR_SQL_UNSUPPORTED"
  | "ERR_SQL_TABLE"
  | "ERR_PARAM_CONFLICT"
  | "ERR_NO_INDEXABLE_CONDITION"
  | "ERR_ORDER_NEEDS_INDEX"
  | "ERR_VIEW_DEFINITION";

/**
 * The view's SQL is outside the supported subset (or malformed). Raised when
 * the project loads; the message says what is unsupported and, when there is
 * one, the supported alternative.
 */
export class ViewCompileError extends Error {
  override readonly name = "ViewCompileError";
  readonly code: ViewCompileErrorCode;
  readonly view: string;
  readonly query: string;
  readonly position: SqlPosition;
  readonly reason: string;

  constructor(code: ViewCompileErrorCode, view: string, query: string, position: SqlPosition, reason: string) {
    super(`view "${view}", query "${query}" (line ${position.line}, column ${position.column}): ${reason}`);
    this.code = code;
    this.view = view;
    this.query = query;
    this.position = position;
    this.reason = reason;
  }
}

export type QueryErrorCode =
  /** A parameter the SQL uses was not supplied (HTTP 400). */
  | "ERR_PARAM_MISSING"
  /** A parameter has the wrong type for its use (HTTP 400). */
  | "ERR_PARAM_TYPE"
  /** A parameter has the right type but an unusable value, e.g. LIKE '%x' (HTTP 400). */
  | "ERR_PARAM_VALUE"
  /** The page token is malformed or belongs to another query (HTTP 400). */
  | "ERR_PAGE_TOKEN_INVALID"
  /** More rows than the query's row cap (HTTP 400: page the query). */
  | "ERR_TOO_MANY_ROWS"
  /** More index ranges than rangesMax (IN lists or ANY arrays too long; HTTP 400). */
  | "ERR_TOO_MANY_RANGES"
  /** A `single` query found more than one row (HTTP 500: the view's data breaks the query's contract). */
  | "ERR_NOT_UNIQUE";

/** A query failed at run time because of its input or its result size. */
export class QueryError extends Error {
  override readonly name = "QueryError";
  readonly code: QueryErrorCode;
  /** The parameter concerned, when there is one. */
  readonly param: string | undefined;

  constructor(code: QueryErrorCode, message: string, param?: string) {
    super(message);
    this.code = code;
    this.param = param;
  }
}

/** Parameter errors are QueryErrors with a param code; kept as a name for callers. */
export class QueryParamError extends QueryError {
  constructor(code: "ERR_PARAM_MISSING" | "ERR_PARAM_TYPE" | "ERR_PARAM_VALUE", message: string, param: string) {
    super(code, message, param);
  }
}

export function isQueryError(e: unknown, code?: QueryErrorCode): e is QueryError {
  return e instanceof QueryError && (code === undefined || e.code === code);
}
