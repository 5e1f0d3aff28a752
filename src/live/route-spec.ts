// Which rows can possibly reach a query's result, read off its WHERE clause,
// so that a row change is routed only to pipelines whose predicate it might
// satisfy. Only top-level AND terms are used: a row that passes the WHERE
// passes each of them, so routing by any of them never misses a pipeline
// (the pipeline's filter then decides exactly).
//
//  eq    - `col = v` terms (all of them, one hash key), else one multi-valued
//          term: `col IN (v1, v2)`, `col = ANY(:list)`, `:v = ANY(arrayCol)`.
//          Pipelines are found by hashing the row's values.
//  range - else `col < v`, `<=`, `>`, `>=`, BETWEEN, `col LIKE 'prefix%'` on
//          one column: pipelines are found by an interval index
//          (interval-index.ts) on that column; a LIKE pattern's interval is
//          [prefix, the prefix with its last code point incremented).
//  all   - else (no WHERE, OR at the top, IS NULL, !=, NOT LIKE): every change
//          to the table is offered to every such pipeline.
import type { CompareOp, LiteralNode, ParamNode, PredicateNode, ValueNode } from "../query/ir/nodes.js";
import { pathKey } from "../query/ir/nodes.js";
import { parseLikePattern } from "../query/values/like.js";
import { COMPLEX, compareSql, readPath, toSqlValue, type SqlValue } from "../query/values/value.js";
import type { Row } from "../query/types.js";
import type { Params } from "./params.js";

type Operand = LiteralNode | ParamNode;
type Path = readonly string[];

export type EqTerm =
  | { readonly kind: "scalar"; readonly path: Path; readonly value: Operand }
  | { readonly kind: "list"; readonly path: Path; readonly values: readonly Operand[] }
  | { readonly kind: "arrayParam"; readonly path: Path; readonly param: string }
  | { readonly kind: "arrayColumn"; readonly path: Path; readonly value: Operand };

export interface RangeTerm {
  /** "like": the value is a LIKE pattern; its prefix bounds the column (see likeBounds). */
  readonly op: "<" | "<=" | ">" | ">=" | "like";
  readonly value: Operand;
}

export type RouteSpec =
  | { readonly kind: "eq"; readonly terms: readonly EqTerm[] }
  | { readonly kind: "range"; readonly path: Path; readonly bounds: readonly RangeTerm[] }
  | { readonly kind: "all" };

const FLIP: Readonly<Record<CompareRangeOp, CompareRangeOp>> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

type CompareRangeOp = Exclude<RangeTerm["op"], "like">;

function isOperand(v: ValueNode): v is Operand {
  return v.kind === "literal" || v.kind === "param";
}

function isRangeOp(op: CompareOp): op is CompareRangeOp {
  return op === "<" || op === "<=" || op === ">" || op === ">=";
}

export function routeSpec(where: PredicateNode | null): RouteSpec {
  if (where === null) return { kind: "all" };
  const terms = where.kind === "and" ? where.items : [where];
  const scalars: EqTerm[] = [];
  const multi: EqTerm[] = [];
  const ranges = new Map<string, { path: Path; bounds: RangeTerm[] }>();
  for (const t of terms) {
    if (t.kind === "compare") {
      const { left, right } = t;
      const col = left.kind === "column" && isOperand(right) ? { path: left.path, value: right, op: t.op }
        : right.kind === "column" && isOperand(left) ? { path: right.path, value: left, op: isRangeOp(t.op) ? FLIP[t.op] : t.op }
          : null;
      if (col === null) continue;
      if (col.op === "=") scalars.push({ kind: "scalar", path: col.path, value: col.value });
      else if (isRangeOp(col.op)) {
        const k = pathKey(col.path);
        const r = ranges.get(k) ?? { path: col.path, bounds: [] };
        r.bounds.push({ op: col.op, value: col.value });
        ranges.set(k, r);
      }
    } else if (t.kind === "like" && !t.negated && t.operand.kind === "column") {
      const k = pathKey(t.operand.path);
      const r = ranges.get(k) ?? { path: t.operand.path, bounds: [] };
      r.bounds.push({ op: "like", value: t.pattern });
      ranges.set(k, r);
    } else if (t.kind === "in" && !t.negated && t.operand.kind === "column" && t.list.every(isOperand)) {
      multi.push({ kind: "list", path: t.operand.path, values: t.list as Operand[] });
    } else if (t.kind === "any" && !t.negated) {
      if (t.value.kind === "column" && t.array.kind === "param") multi.push({ kind: "arrayParam", path: t.value.path, param: t.array.name });
      else if (isOperand(t.value) && t.array.kind === "column") multi.push({ kind: "arrayColumn", path: t.array.path, value: t.value });
    }
  }
  if (scalars.length > 0) return { kind: "eq", terms: scalars };
  if (multi.length > 0) return { kind: "eq", terms: [multi[0] as EqTerm] };
  const range = ranges.values().next();
  if (range.done !== true) return { kind: "range", path: range.value.path, bounds: range.value.bounds };
  return { kind: "all" };
}

/** A hash key for SQL equality: equal keys exactly when compareSql says 0. Null: equal to nothing. */
export function eqKey(v: SqlValue): string | null {
  if (v === null || v === COMPLEX) return null;
  switch (typeof v) {
    case "string":
      return "s" + v;
    case "number":
      return "n" + String(v);
    default:
      return v ? "t" : "f";
  }
}

function operandValue(o: Operand, params: Params): SqlValue {
  return o.kind === "literal" ? o.value : toSqlValue(params[o.name]);
}

function distinct(keys: (string | null)[]): string[] {
  return [...new Set(keys.filter((k): k is string => k !== null))];
}

function compose(parts: readonly (string | null)[]): string | null {
  if (parts.some((p) => p === null)) return null;
  return parts.length === 1 ? (parts[0] as string) : JSON.stringify(parts);
}

/** The hash keys a pipeline with these parameters is found under ([] = no row can match). */
export function pipelineKeys(terms: readonly EqTerm[], params: Params): string[] {
  const first = terms[0] as EqTerm;
  switch (first.kind) {
    case "scalar": {
      const k = compose(terms.map((t) => (t.kind === "scalar" ? eqKey(operandValue(t.value, params)) : null)));
      return k === null ? [] : [k];
    }
    case "list":
      return distinct(first.values.map((o) => eqKey(operandValue(o, params))));
    case "arrayParam": {
      const arr = params[first.param];
      return Array.isArray(arr) ? distinct((arr as unknown[]).map((x) => eqKey(toSqlValue(x)))) : [];
    }
    case "arrayColumn": {
      const k = eqKey(operandValue(first.value, params));
      return k === null ? [] : [k];
    }
  }
}

/** The hash keys under which pipelines that this row may match are found. */
export function rowKeys(terms: readonly EqTerm[], row: Row): string[] {
  const first = terms[0] as EqTerm;
  if (first.kind === "arrayColumn") {
    const arr = readPath(row, first.path);
    return Array.isArray(arr) ? distinct((arr as unknown[]).map((x) => eqKey(toSqlValue(x)))) : [];
  }
  if (first.kind !== "scalar") {
    const k = eqKey(toSqlValue(readPath(row, first.path)));
    return k === null ? [] : [k];
  }
  const k = compose(terms.map((t) => eqKey(toSqlValue(readPath(row, t.path)))));
  return k === null ? [] : [k];
}

export type Scalar = string | number | boolean;

/** A pipeline's interval on the range column, or null when no row can match (NULL or mixed-type bounds). */
export function pipelineInterval(bounds: readonly RangeTerm[], params: Params):
  { type: string; lo: { value: Scalar; inclusive: boolean } | null; hi: { value: Scalar; inclusive: boolean } | null } | null {
  let type: string | null = null;
  let lo: { value: Scalar; inclusive: boolean } | null = null;
  let hi: { value: Scalar; inclusive: boolean } | null = null;
  const all: { op: CompareRangeOp; v: SqlValue }[] = [];
  for (const b of bounds) {
    const v = operandValue(b.value, params);
    if (b.op !== "like") all.push({ op: b.op, v });
    // A pattern that is not a string matches nothing (evaluate: NULL); a string is read as evaluate reads it.
    else if (typeof v !== "string") return null;
    else all.push(...likeBounds(parseLikePattern(v).prefix));
  }
  for (const { op, v } of all) {
    if (v === null || v === COMPLEX) return null;
    if (type !== null && typeof v !== type) return null;
    type = typeof v;
    const inclusive = op === "<=" || op === ">=";
    if (op === ">" || op === ">=") {
      const c = lo === null ? 1 : (compareSql(v, lo.value) as number);
      if (c > 0 || (c === 0 && !inclusive)) lo = { value: v, inclusive };
    } else {
      const c = hi === null ? -1 : (compareSql(v, hi.value) as number);
      if (c < 0 || (c === 0 && !inclusive)) hi = { value: v, inclusive };
    }
  }
  return type === null ? null : { type, lo, hi };
}

/**
 * The strings starting with `prefix`, as bounds in code point order (the order
 * compareSql uses): >= prefix, and < prefix with its last code point
 * incremented (none when it is U+10FFFF: then only the lower bound).
 */
function likeBounds(prefix: string): { op: CompareRangeOp; v: string }[] {
  const lower = { op: ">=" as const, v: prefix };
  const cps = Array.from(prefix);
  const last = cps.pop();
  if (last === undefined) return [lower];
  const cp = last.codePointAt(0) as number;
  if (cp >= 0x10ffff) return [lower];
  const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
  return [lower, { op: "<", v: cps.join("") + String.fromCodePoint(next) }];
}
