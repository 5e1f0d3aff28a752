// Plan nodes: what a compiled query does, as frozen plain data. Built by
// planner.ts, printed by explain.ts, run by exec/. Ranges are templates:
// their values (literals or params) are resolved per execution (ranges.ts).
import type { LiteralNode, ParamNode, PredicateNode, ValueNode } from "../ir/nodes.js";

/** One column of a derived index. */
export interface IndexColumn {
  readonly path: readonly string[];
  readonly desc: boolean;
  /** Multi-entry: the field holds an array and gets one entry per distinct element (for :p = ANY(col)). */
  readonly each: boolean;
}

/** A secondary index: keys [id, ...column values, pk] in the `index` db, value = pk. */
export interface IndexDefinition {
  /** Stable, readable id, also the key prefix: "customers:name,age desc". */
  readonly id: string;
  readonly table: string;
  readonly columns: readonly IndexColumn[];
}

/** How one leading index column is bound to points. */
export type EqSource =
  | { readonly kind: "value"; readonly value: LiteralNode | ParamNode }
  | { readonly kind: "list"; readonly values: readonly (LiteralNode | ParamNode)[] }
  | { readonly kind: "array"; readonly param: ParamNode }
  | { readonly kind: "null" };

export interface RangeBound {
  readonly op: "<" | "<=" | ">" | ">=";
  readonly value: LiteralNode | ParamNode;
}

/** Bounds on the index column after the equality prefix (all of them apply). */
export interface RangeSource {
  readonly bounds: readonly RangeBound[];
  /** A LIKE pattern: its prefix bounds the range (takes precedence over `bounds`). */
  readonly like: LiteralNode | ParamNode | null;
  /** IS NOT NULL: skip the NULL keys. */
  readonly notNull: boolean;
}

/** A term of a row order; `path: null` is the primary key. */
export interface OrderKey {
  readonly path: readonly string[] | null;
  readonly desc: boolean;
}

export interface IndexScan {
  readonly kind: "indexScan";
  readonly index: IndexDefinition;
  /** Binds index.columns[0 .. eq.length). */
  readonly eq: readonly EqSource[];
  /** Bounds index.columns[eq.length], if any. */
  readonly range: RangeSource | null;
  /** The order each of this scan's ranges yields: the columns after the eq prefix, then pk. */
  readonly yields: readonly OrderKey[];
}

/** All rows of the table in pk order (only for queries without WHERE and ORDER BY). */
export interface TableScan {
  readonly kind: "tableScan";
}

/** OR of indexable branches: several scans, rows deduplicated by pk. */
export interface UnionScan {
  readonly kind: "union";
  readonly scans: readonly IndexScan[];
}

export type AccessPlan = IndexScan | TableScan | UnionScan;

/**
 * How rows reach the client in `order`:
 *  merge     - every range already yields `order`: k-way merge (one range: a plain scan)
 *  topK      - read every matching row, keep the best OFFSET+LIMIT(+1) in memory
 *  unordered - no order needed (no ORDER BY, LIMIT, OFFSET or paging): concatenate, dedupe by pk
 */
export type OrderMode = "merge" | "topK" | "unordered";

export interface QueryPlan {
  readonly access: AccessPlan;
  /** The whole WHERE (normalized), re-checked on every row read: ranges only narrow. */
  readonly filter: PredicateNode | null;
  /** The effective order: ORDER BY terms, then pk ascending (ties broken by pk). */
  readonly order: readonly OrderKey[];
  readonly mode: OrderMode;
}

export const PK_ORDER: OrderKey = Object.freeze({ path: null, desc: false });

export type { ValueNode };
