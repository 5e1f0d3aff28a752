// Entry point: a view definition -> CompiledView (queries planned, indexes
// derived). Called when the project loads; every unsupported construct is a
// ViewCompileError naming the view, the query and the position.
import type { WriteTxn } from "../storage/store.js";
import { makeCompiledQuery } from "./compiled-query.js";
import { ViewCompileError } from "./errors.js";
import { DEFAULT_QUERY_ROWS_MAX } from "./limits.js";
import { applyRowChange } from "./maintain/apply-row-change.js";
import { Locator } from "./parse/locator.js";
import { parseQuery } from "./parse/parse-query.js";
import type { IndexDefinition } from "./plan/plan-nodes.js";
import { PlanError, planIndexes, planQuery } from "./plan/planner.js";
import type { CompiledQuery, CompiledView, Row, ViewDefinition } from "./types.js";

export type { CompiledQuery, CompiledView, ViewDefinition } from "./types.js";

/**
 * Compiles a view's queries and derives its indexes. Throws ViewCompileError.
 * @example
 * const v = compileView({ name: "customers", table: "customers",
 *   queries: { byName: { sql: "SELECT * FROM customers WHERE name = :name" } } });
 * store.read((txn) => [...v.queries.byName.execute(txn, { name: "Ann" })]);
 */
export function compileView(def: ViewDefinition): CompiledView {
  const start = { line: 1, column: 1 };
  if (typeof def.table !== "string" || def.table === "") {
    throw new ViewCompileError("ERR_VIEW_DEFINITION", def.name, "", start, "a view needs a table name");
  }
  const queries: Record<string, CompiledQuery> = {};
  const indexes = new Map<string, IndexDefinition>();
  for (const [name, q] of Object.entries(def.queries)) {
    const maxRows = q.maxRows ?? DEFAULT_QUERY_ROWS_MAX;
    if (!Number.isSafeInteger(maxRows) || maxRows < 1) {
      throw new ViewCompileError("ERR_VIEW_DEFINITION", def.name, name, start, `maxRows must be a positive integer, got ${String(q.maxRows)}`);
    }
    const { select, params } = parseQuery(def.name, name, def.table, q.sql);
    let plan;
    try {
      plan = planQuery(select);
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      const loc = new Locator(q.sql);
      const at = e.failure.where === "where" ? select.whereAt : loc.find(/\bORDER\s+BY\b/);
      throw new ViewCompileError(e.failure.code, def.name, name, at, e.failure.reason);
    }
    for (const ix of planIndexes(plan)) indexes.set(ix.id, ix);
    queries[name] = makeCompiledQuery({ view: def.name, name, sql: q.sql, http: q.http, select, params, plan, maxRows, single: q.result === "single" });
  }
  const indexList = Object.freeze([...indexes.values()]);
  const table = def.table;
  return Object.freeze({
    name: def.name,
    table,
    indexes: indexList,
    queries: Object.freeze(queries),
    applyRowChange: (txn: WriteTxn, pk: string, row: Row | null) => applyRowChange(txn, table, indexList, pk, row),
  });
}
