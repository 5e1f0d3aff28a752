// What keeping one compiled query live needs beyond its plan: the projection,
// OFFSET/LIMIT and the result shape. CompiledQuery keeps its SelectNode to
// itself, so the query's SQL is parsed again here (once per compiled query,
// with the query layer's own parser: the same IR the plan came from).
import { parseQuery } from "../query/parse/parse-query.js";
import type { CountExpr, SelectNode } from "../query/ir/nodes.js";
import { readPath } from "../query/values/value.js";
import type { CompiledQuery, CompiledView, Row } from "../query/types.js";
import { LiveError } from "./errors.js";

export interface LiveShape {
  readonly view: string;
  readonly table: string;
  readonly query: CompiledQuery;
  readonly select: SelectNode;
  /** `result: "single"`: more than one row ends the subscription with ERR_NOT_UNIQUE. */
  readonly single: boolean;
  /** The output row of a stored row (SELECT * or the column list). */
  project(row: Row): Row;
  /** OFFSET and LIMIT (null: none) for one execution's parameters (already validated). */
  window(params: Readonly<Record<string, unknown>>): { offset: number; limit: number | null };
}

const shapes = new WeakMap<CompiledQuery, LiveShape>();

/** The live shape of a query, or ERR_NOT_LIVE when its result cannot be maintained row by row. */
export function liveShape(view: CompiledView, query: CompiledQuery): LiveShape {
  const cached = shapes.get(query);
  if (cached !== undefined) return cached;
  if (query.resultShape === "page") {
    throw new LiveError("ERR_NOT_LIVE", `query "${query.name}" returns a page object (next_page_token()/has_more()); subscribe to a query with ORDER BY ... LIMIT n instead`);
  }
  if (query.resultShape === "count") {
    throw new LiveError("ERR_NOT_LIVE", `query "${query.name}" returns COUNT(*); live counts are not supported yet: subscribe to the rows, or poll the count`);
  }
  const { select } = parseQuery(view.name, query.name, view.table, query.sql);
  if (select.offset?.kind === "pageToken") {
    throw new LiveError("ERR_NOT_LIVE", `query "${query.name}" pages with page_token_offset(); subscribe to a query with ORDER BY ... LIMIT n instead`);
  }
  const projection = select.projection;
  const project = projection.kind === "star"
    ? (row: Row): Row => row
    : (row: Row): Row => {
        const out: Record<string, unknown> = {};
        for (const c of projection.columns) out[c.as] = readPath(row, c.path) ?? null;
        return out;
      };
  const count = (e: CountExpr | null, params: Readonly<Record<string, unknown>>): number | null => {
    if (e === null) return null;
    const v = e.kind === "literal" ? e.value : params[e.name];
    // The query's own validation (CompiledQuery.open) has checked it is a non-negative integer.
    return typeof v === "number" ? v : 0;
  };
  const offsetExpr = select.offset;
  const shape: LiveShape = Object.freeze({
    view: view.name,
    table: view.table,
    query,
    select,
    single: query.resultShape === "single",
    project,
    window: (params: Readonly<Record<string, unknown>>) => ({ offset: count(offsetExpr, params) ?? 0, limit: count(select.limit, params) }),
  });
  shapes.set(query, shape);
  return shape;
}
