// Planner: a SELECT's WHERE and ORDER BY -> index scans + residual filter.
//
// Index derivation follows "equality, sort, range": the index for one
// conjunction holds its equality columns (=, IN, = ANY(:list), IS NULL, and
// at most one array membership :p = ANY(col) as a multi-entry column), then
// the ORDER BY columns not fixed by an equality, then - only when it can bound
// the scan - the range column: with no ORDER BY the first range column, with
// an ORDER BY only a range on its first column. (A range column placed after
// the sort columns would change how ties are ordered, and ties must be broken
// by pk.) With no equality and a range on another column than the sort, the
// index serves the range and rows are sorted in memory (top-k, LIMIT needed).
//
// An OR whose every branch is indexable becomes a union of scans. A WHERE
// with nothing indexable is rejected: no query with a WHERE scans the table.
import type { OrderTerm, PredicateNode, SelectNode } from "../ir/nodes.js";
import { pathKey } from "../ir/nodes.js";
import { normalize } from "../ir/normalize.js";
import type { AccessPlan, IndexColumn, IndexDefinition, IndexScan, OrderKey, OrderMode, QueryPlan } from "./plan-nodes.js";
import { PK_ORDER } from "./plan-nodes.js";
import type { ColumnConditions } from "./sargable.js";
import { analyzeConjunction, hasRange } from "./sargable.js";

export type PlanFailure = { readonly code: "ERR_NO_INDEXABLE_CONDITION" | "ERR_ORDER_NEEDS_INDEX"; readonly where: "where" | "orderBy"; readonly reason: string };

export class PlanError extends Error {
  constructor(readonly failure: PlanFailure) {
    super(failure.reason);
  }
}

export function indexId(table: string, columns: readonly IndexColumn[]): string {
  const cols = columns.map((c) => `${pathKey(c.path)}${c.each ? "[]" : ""}${c.desc ? " desc" : ""}`);
  return `${table}:${cols.join(",")}`;
}

function makeIndex(table: string, columns: readonly IndexColumn[]): IndexDefinition {
  return Object.freeze({ id: indexId(table, columns), table, columns: Object.freeze(columns.map((c) => Object.freeze({ ...c }))) });
}

function makeScan(table: string, columns: IndexColumn[], eq: ColumnConditions[], range: ColumnConditions | null): IndexScan {
  const index = makeIndex(table, columns);
  const yields: OrderKey[] = columns.slice(eq.length).map((c) => Object.freeze({ path: c.path, desc: c.desc }));
  yields.push(PK_ORDER);
  return Object.freeze({
    kind: "indexScan",
    index,
    eq: Object.freeze(eq.map((c) => (c.eq ?? { kind: "value", value: c.contains })) as IndexScan["eq"]),
    range: range === null ? null : Object.freeze({ bounds: Object.freeze([...range.bounds]), like: range.like, notNull: range.notNull }),
    yields: Object.freeze(yields),
  });
}

/** Index scan for one AND-group, or null when nothing in it is indexable. */
function planConjunction(table: string, items: readonly PredicateNode[], orderBy: readonly OrderTerm[]): IndexScan | null {
  const { columns } = analyzeConjunction(items);
  const all = [...columns.values()];
  const contains = all.find((c) => c.eq === null && c.contains !== null) ?? null;
  const eq = all.filter((c) => c.eq !== null || c === contains);
  const eqKeys = new Set(eq.map((c) => pathKey(c.path)));
  const indexCols: IndexColumn[] = eq.map((c) => ({ path: c.path, desc: false, each: c.eq === null }));
  const sort = orderBy.filter((t) => !eqKeys.has(pathKey(t.path)));
  const ranged = all.filter((c) => !eqKeys.has(pathKey(c.path)) && hasRange(c));
  let range: ColumnConditions | null = null;
  if (sort.length > 0) {
    const first = columns.get(pathKey((sort[0] as OrderTerm).path));
    if (first !== undefined && hasRange(first)) range = first;
    if (eq.length === 0 && range === null) {
      // No equality to bound an index in the sort order: serve the range, sort in memory.
      const other = ranged[0];
      if (other === undefined) return null;
      return makeScan(table, [{ path: other.path, desc: false, each: false }], [], other);
    }
    indexCols.push(...sort.map((t) => ({ path: t.path, desc: t.desc, each: false })));
  } else {
    range = ranged[0] ?? null;
    if (eq.length === 0 && range === null) return null;
    if (range !== null) indexCols.push({ path: range.path, desc: false, each: false });
  }
  return makeScan(table, indexCols, eq, range);
}

function planPredicate(table: string, p: PredicateNode, orderBy: readonly OrderTerm[]): IndexScan | { kind: "union"; scans: IndexScan[] } | null {
  if (p.kind === "or") {
    const scans: IndexScan[] = [];
    for (const item of p.items) {
      const r = planPredicate(table, item, orderBy);
      if (r === null) return null;
      scans.push(...(r.kind === "union" ? r.scans : [r]));
    }
    return { kind: "union", scans };
  }
  const items = p.kind === "and" ? p.items : [p];
  const scan = planConjunction(table, items, orderBy);
  if (scan !== null) return scan;
  for (const item of items) {
    if (item.kind !== "or") continue;
    const r = planPredicate(table, item, orderBy);
    if (r !== null) return r;
  }
  return null;
}

function sameKey(a: OrderKey, b: OrderKey): boolean {
  if (a.desc !== b.desc) return false;
  if (a.path === null || b.path === null) return a.path === b.path;
  return pathKey(a.path) === pathKey(b.path);
}

/** Whether every range of `scan` yields rows in `order` (terms fixed by its equalities drop out). */
export function scanYields(scan: IndexScan, order: readonly OrderKey[]): boolean {
  const fixed = new Set(scan.index.columns.slice(0, scan.eq.length).map((c) => pathKey(c.path)));
  const rest = order.filter((o) => o.path === null || !fixed.has(pathKey(o.path)));
  return rest.length === scan.yields.length && rest.every((o, i) => sameKey(o, scan.yields[i] as OrderKey));
}

export function planQuery(select: SelectNode): QueryPlan {
  const { table, orderBy } = select;
  const filter = select.where === null ? null : normalize(select.where);
  const explicit: OrderKey[] | null = orderBy.length === 0 ? null : [...orderBy.map((t) => Object.freeze({ path: t.path, desc: t.desc })), PK_ORDER];
  let access: AccessPlan;
  if (filter === null) {
    access = orderBy.length === 0 ? Object.freeze({ kind: "tableScan" }) : makeScan(table, orderBy.map((t) => ({ path: t.path, desc: t.desc, each: false })), [], null);
  } else {
    const found = planPredicate(table, filter, orderBy);
    if (found === null) {
      throw new PlanError({
        code: "ERR_NO_INDEXABLE_CONDITION",
        where: "where",
        reason:
          "the WHERE clause has no condition an index can serve, so it would scan the whole table; " +
          "add one of: column = value, IN (...), = ANY(:list), :p = ANY(arrayColumn), <, <=, >, >=, BETWEEN, LIKE 'prefix%', IS [NOT] NULL " +
          "(conditions with != / NOT LIKE / column-to-column comparisons are only checked on rows found by another condition; every OR branch must be indexable)",
      });
    }
    access = found.kind === "union" ? Object.freeze({ kind: "union", scans: Object.freeze(found.scans) }) : found;
  }
  const scans: readonly IndexScan[] = access.kind === "union" ? access.scans : access.kind === "indexScan" ? [access] : [];
  const needsOrder = explicit !== null || select.limit !== null || select.offset !== null || select.wrapper !== null;
  let order: readonly OrderKey[];
  let mode: OrderMode;
  if (access.kind === "tableScan") {
    order = [PK_ORDER];
    mode = "merge";
  } else if (explicit !== null) {
    order = explicit;
    mode = scans.every((s) => scanYields(s, explicit)) ? "merge" : "topK";
  } else {
    const first = (scans[0] as IndexScan).yields;
    if (scans.every((s) => scanYields(s, first))) {
      order = first;
      mode = "merge";
    } else {
      order = [PK_ORDER];
      mode = needsOrder ? "topK" : "unordered";
    }
  }
  if (mode === "topK" && select.limit === null) {
    const what = explicit === null ? "paging (LIMIT/OFFSET/page tokens) needs one order, but the OR branches use different indexes" : "ORDER BY needs rows in an order no index of this WHERE clause provides";
    throw new PlanError({
      code: "ERR_ORDER_NEEDS_INDEX",
      where: explicit === null ? "where" : "orderBy",
      reason:
        `${what}; add LIMIT n (matching rows are then sorted in memory, keeping the best n), ` +
        "or make the order servable: an equality (=, IN) on other columns, or a range only on the first ORDER BY column",
    });
  }
  return Object.freeze({ access, filter, order: Object.freeze([...order]), mode });
}

/** The distinct indexes a plan uses. */
export function planIndexes(plan: QueryPlan): IndexDefinition[] {
  const a = plan.access;
  if (a.kind === "tableScan") return [];
  return a.kind === "union" ? a.scans.map((s) => s.index) : [a.index];
}
