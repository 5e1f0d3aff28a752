// The filter operator: whether a row belongs to a query's result, by the
// query layer's own evaluator (SQL three-valued logic: only TRUE passes).
import { evaluate } from "../query/exec/evaluate.js";
import type { PredicateNode } from "../query/ir/nodes.js";
import type { Row } from "../query/types.js";
import type { Params } from "./params.js";

export type RowFilter = (row: Row) => boolean;

export function makeFilter(where: PredicateNode | null, params: Params): RowFilter {
  if (where === null) return () => true;
  return (row) => evaluate(where, row, params) === true;
}
