// Negation normal form: NOT pushed down to the leaves, nested AND/OR
// flattened. Every rewrite is an equivalence under SQL's three-valued logic
// (Kleene): NOT(a AND b) = NOT a OR NOT b, NOT(x < y) = x >= y (both are
// NULL when x or y is NULL), NOT(x IN l) = x NOT IN l, and so on. The planner
// reads index ranges off the normalized form; the residual filter evaluates it.
import type { CompareOp, PredicateNode } from "./nodes.js";
import { and, anyOf, compare, inList, isNull, like, or } from "./nodes.js";

const NEGATED: Readonly<Record<CompareOp, CompareOp>> = {
  "=": "<>",
  "<>": "=",
  "<": ">=",
  "<=": ">",
  ">": "<=",
  ">=": "<",
};

export function normalize(p: PredicateNode): PredicateNode {
  return push(p, false);
}

function push(p: PredicateNode, negate: boolean): PredicateNode {
  switch (p.kind) {
    case "not":
      return push(p.operand, !negate);
    case "and":
    case "or": {
      const items = p.items.map((i) => push(i, negate));
      const isAnd = (p.kind === "and") !== negate;
      return isAnd ? flatten("and", items) : flatten("or", items);
    }
    case "compare":
      return negate ? compare(NEGATED[p.op], p.left, p.right) : p;
    case "in":
      return negate ? inList(p.operand, p.list, !p.negated) : p;
    case "any":
      return negate ? anyOf(p.value, p.array, !p.negated) : p;
    case "isNull":
      return negate ? isNull(p.operand, !p.negated) : p;
    case "like":
      return negate ? like(p.operand, p.pattern, !p.negated) : p;
  }
}

function flatten(kind: "and" | "or", items: readonly PredicateNode[]): PredicateNode {
  const out: PredicateNode[] = [];
  for (const i of items) {
    if (i.kind === kind) out.push(...i.items);
    else out.push(i);
  }
  if (out.length === 1) return out[0] as PredicateNode;
  return kind === "and" ? and(out) : or(out);
}
