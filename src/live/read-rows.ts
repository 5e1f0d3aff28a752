// Reads a query's matching rows, with their sort keys, through the query
// layer's executor (index ranges, residual filter, merge/top-k): the initial
// contents of a window and the rows that close a gap after a commit.
import { run } from "../query/exec/run.js";
import { compareSortKeys, sortKey } from "../query/exec/row-source.js";
import type { KeyPart, ReadTxn } from "../storage/store.js";
import type { Params } from "./params.js";
import type { LiveShape } from "./shape.js";
import type { Entry } from "./window.js";

export interface ReadResult {
  readonly entries: Entry[];
  /** Whether matching rows exist after the last entry. */
  readonly more: boolean;
}

/**
 * Up to `rows` matching rows (null: all, bounded by the query's row cap)
 * strictly after `after`, in the plan's order.
 */
export function readRows(txn: ReadTxn, shape: LiveShape, params: Params, after: readonly KeyPart[] | null, rows: number | null): ReadResult {
  const plan = shape.query.plan;
  const r = run(txn, shape.table, plan, params, {
    limit: rows,
    offset: 0,
    after,
    wantMore: rows !== null,
    rowsMax: rows === null ? shape.query.maxRows : rows + 1,
  });
  const entries: Entry[] = [];
  for (const item of r.rows) entries.push({ pk: item.pk, key: sortKey(item, plan.order), row: item.row });
  // Unordered plans (OR over different indexes, no ORDER BY) come out in index order: live results use the plan's order.
  if (plan.mode === "unordered") entries.sort((a, b) => compareSortKeys(a.key, b.key, plan.order));
  return { entries, more: r.info.hasMore };
}
