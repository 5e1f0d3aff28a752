// Finds the conditions of one conjunction (AND of normalized predicates) that
// an index can serve, per column: equalities (=, IN, = ANY(:list), IS NULL),
// ranges (< <= > >=, LIKE 'prefix%', IS NOT NULL) and memberships
// (:p = ANY(arrayColumn), served by a multi-entry index). Everything else is
// only checked by the residual filter.
import type { ColumnNode, CompareOp, LiteralNode, ParamNode, PredicateNode, ValueNode } from "../ir/nodes.js";
import { pathKey } from "../ir/nodes.js";
import type { EqSource, RangeBound } from "./plan-nodes.js";

export interface ColumnConditions {
  readonly path: readonly string[];
  eq: EqSource | null;
  bounds: RangeBound[];
  like: LiteralNode | ParamNode | null;
  notNull: boolean;
  /** :p = ANY(column): the values to look up in a multi-entry index. */
  contains: LiteralNode | ParamNode | null;
}

export interface Conjunction {
  /** Per column (pathKey), in order of first appearance. */
  readonly columns: Map<string, ColumnConditions>;
}

const FLIP: Readonly<Record<CompareOp, CompareOp>> = { "=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

function isConst(v: ValueNode): v is LiteralNode | ParamNode {
  return v.kind === "literal" || v.kind === "param";
}

export function analyzeConjunction(items: readonly PredicateNode[]): Conjunction {
  const columns = new Map<string, ColumnConditions>();
  const at = (c: ColumnNode): ColumnConditions => {
    const k = pathKey(c.path);
    let cc = columns.get(k);
    if (cc === undefined) {
      cc = { path: c.path, eq: null, bounds: [], like: null, notNull: false, contains: null };
      columns.set(k, cc);
    }
    return cc;
  };
  for (const p of items) {
    switch (p.kind) {
      case "compare": {
        let col: ColumnNode;
        let value: LiteralNode | ParamNode;
        let op = p.op;
        if (p.left.kind === "column" && isConst(p.right)) {
          col = p.left;
          value = p.right;
        } else if (p.right.kind === "column" && isConst(p.left)) {
          col = p.right;
          value = p.left;
          op = FLIP[op];
        } else break;
        if (op === "<>") break;
        const cc = at(col);
        if (op === "=") cc.eq ??= { kind: "value", value };
        else cc.bounds.push({ op, value });
        break;
      }
      case "in":
        if (!p.negated && p.operand.kind === "column" && p.list.every(isConst)) {
          at(p.operand).eq ??= { kind: "list", values: p.list as readonly (LiteralNode | ParamNode)[] };
        }
        break;
      case "any":
        if (p.negated) break;
        if (p.array.kind === "param" && p.value.kind === "column") at(p.value).eq ??= { kind: "array", param: p.array };
        else if (p.array.kind === "column" && isConst(p.value)) at(p.array).contains ??= p.value;
        break;
      case "isNull":
        if (p.operand.kind !== "column") break;
        if (p.negated) at(p.operand).notNull = true;
        else at(p.operand).eq ??= { kind: "null" };
        break;
      case "like":
        if (!p.negated && p.operand.kind === "column") at(p.operand).like ??= p.pattern;
        break;
      default:
        break;
    }
  }
  return { columns };
}

export function hasRange(c: ColumnConditions): boolean {
  return c.bounds.length > 0 || c.like !== null || c.notNull;
}
