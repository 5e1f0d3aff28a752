// The query layer's public types: what the host hands in (ViewDefinition)
// and what it gets back (CompiledView, CompiledQuery, RowDelta).
import type { KeyPart, ReadTxn, WriteTxn } from "../storage/store.js";
import type { ParamInfo } from "./ir/params.js";
import type { IndexDefinition, QueryPlan } from "./plan/plan-nodes.js";

export interface QueryDefinition {
  readonly sql: string;
  /** HTTP route, e.g. "GET /customers/by-name/:name" (used by src/http, not here). */
  readonly http?: string;
  /** Row cap for this query (default DEFAULT_QUERY_ROWS_MAX). */
  readonly maxRows?: number;
  /** "single": at most one row (the HTTP layer answers 404 when there is none). Default "list". */
  readonly result?: "list" | "single";
}

export interface ViewDefinition {
  readonly name: string;
  readonly table: string;
  readonly queries: Readonly<Record<string, QueryDefinition>>;
}

/**
 * What one query returns:
 *  list   - a stream of rows
 *  single - zero or one row (declared with `result: "single"`; the HTTP layer answers 404 for none)
 *  page   - one object {[page.itemsField]: rows[], [page.nextPageTokenField]: string, ...} (SELECT * AS items, ...)
 *  count  - one row {[countField]: number} (SELECT COUNT(*))
 */
export type ResultShape = "list" | "single" | "page" | "count";

/** Field names of a page object; null fields are not selected. */
export interface PageFields {
  readonly itemsField: string;
  readonly nextPageTokenField: string | null;
  readonly hasMoreField: string | null;
  readonly totalCountField: string | null;
}

export type Row = Readonly<Record<string, unknown>>;

/** Paging facts of one execution, complete once its rows are consumed. */
export interface PageInfo {
  /** Token for the next page ("" when there is none). */
  readonly nextPageToken: string;
  readonly hasMore: boolean;
  /** Set when the query selects total_count(). */
  readonly totalCount: number | undefined;
}

/** A streaming execution: rows are read from storage as `rows` is consumed. */
export interface QueryCursor {
  readonly rows: Iterable<Row>;
  /** Call after `rows` is exhausted. */
  info(): PageInfo;
}

export interface CompiledQuery {
  readonly view: string;
  readonly name: string;
  readonly sql: string;
  readonly http: string | undefined;
  readonly params: readonly ParamInfo[];
  readonly resultShape: ResultShape;
  /** Set when resultShape is "page". */
  readonly page: PageFields | null;
  /** Set when resultShape is "count". */
  readonly countField: string | null;
  readonly maxRows: number;
  readonly plan: QueryPlan;
  /** Converts HTTP (string) parameters with the types inferred from the SQL (see coerce-params.ts). */
  coerceParams(raw: Readonly<Record<string, string>>): Record<string, unknown>;
  /** The plan, readable (for `calyx views explain`). */
  explain(): string;
  /**
   * Results in the query's shape (rows for list/single; one object for page and count).
   * Throws parameter errors at the call; reads storage only as the result is consumed.
   */
  execute(txn: ReadTxn, params: Readonly<Record<string, unknown>>): Iterable<Row>;
  /** Whether a row satisfies the WHERE clause for these params (for live queries; params are not re-validated). */
  matches(row: Row, params: Readonly<Record<string, unknown>>): boolean;
  /** Rows (the items of a page) as a stream, plus paging facts after it ends. */
  open(txn: ReadTxn, params: Readonly<Record<string, unknown>>): QueryCursor;
  /** Throws what open() would throw for these params (types, LIKE patterns, LIMIT/OFFSET values, page token); reads nothing. */
  validate(params: Readonly<Record<string, unknown>>): void;
}

/** The change one row write made: fed to live queries after commit. */
export interface RowDelta {
  readonly table: string;
  readonly pk: string;
  readonly old: Row | null;
  readonly new: Row | null;
}

export interface CompiledView {
  readonly name: string;
  readonly table: string;
  /** Distinct indexes every query of the view needs. */
  readonly indexes: readonly IndexDefinition[];
  readonly queries: Readonly<Record<string, CompiledQuery>>;
  /** Writes (row) or deletes (null) one row and its index entries. */
  applyRowChange(txn: WriteTxn, pk: string, row: Row | null): RowDelta;
}

export type { IndexDefinition, KeyPart, ParamInfo, QueryPlan };
