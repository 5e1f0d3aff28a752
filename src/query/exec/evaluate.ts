// Evaluates IR predicates on one row with SQL three-valued logic: a result
// is true, false or null (unknown); a row passes a WHERE only when true.
import type { PredicateNode, ValueNode } from "../ir/nodes.js";
import type { SqlValue } from "../values/value.js";
import { COMPLEX, compareSql, readPath, toSqlValue } from "../values/value.js";
import { matchesLike, parseLikePattern } from "../values/like.js";
import type { Params } from "./params.js";

export type Truth = boolean | null;
type Row = Readonly<Record<string, unknown>>;

function value(v: ValueNode, row: Row, params: Params): SqlValue {
  switch (v.kind) {
    case "column":
      return toSqlValue(readPath(row, v.path));
    case "literal":
      return v.value;
    case "param":
      return toSqlValue(params[v.name]);
  }
}

function negate(t: Truth, negated: boolean): Truth {
  return negated && t !== null ? !t : t;
}

/** x = any of `items`: true on a match, null if no match but a NULL was seen, else false. */
function membership(x: SqlValue, items: Iterable<unknown>): Truth {
  let sawNull = x === null || x === COMPLEX;
  let any = false;
  for (const raw of items) {
    any = true;
    const c = compareSql(x, toSqlValue(raw));
    if (c === 0) return true;
    if (c === null) sawNull = true;
  }
  return any && sawNull ? null : false;
}

export function evaluate(p: PredicateNode, row: Row, params: Params): Truth {
  switch (p.kind) {
    case "compare": {
      const c = compareSql(value(p.left, row, params), value(p.right, row, params));
      if (c === null) return null;
      switch (p.op) {
        case "=":
          return c === 0;
        case "<>":
          return c !== 0;
        case "<":
          return c < 0;
        case "<=":
          return c <= 0;
        case ">":
          return c > 0;
        case ">=":
          return c >= 0;
      }
      break;
    }
    case "in": {
      const x = value(p.operand, row, params);
      return negate(membership(x, p.list.map((i) => value(i, row, params))), p.negated);
    }
    case "any": {
      const x = value(p.value, row, params);
      const arr = p.array.kind === "column" ? readPath(row, p.array.path) : params[p.array.name];
      if (!Array.isArray(arr)) return null;
      return negate(membership(x, arr as unknown[]), p.negated);
    }
    case "isNull":
      return value(p.operand, row, params) === null ? !p.negated : p.negated;
    case "like": {
      const x = value(p.operand, row, params);
      const pat = value(p.pattern, row, params);
      if (x === null || x === COMPLEX || pat === null) return null;
      if (typeof pat !== "string") return null;
      return negate(typeof x === "string" && matchesLike(x, parseLikePattern(pat)), p.negated);
    }
    case "and": {
      let result: Truth = true;
      for (const i of p.items) {
        const t = evaluate(i, row, params);
        if (t === false) return false;
        if (t === null) result = null;
      }
      return result;
    }
    case "or": {
      let result: Truth = false;
      for (const i of p.items) {
        const t = evaluate(i, row, params);
        if (t === true) return true;
        if (t === null) result = null;
      }
      return result;
    }
    case "not": {
      const t = evaluate(p.operand, row, params);
      return t === null ? null : !t;
    }
  }
}
