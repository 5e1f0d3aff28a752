// WHERE expressions: node-sql-parser AST -> IR predicates (ir/nodes.ts).
// Anything outside the v1 subset fails here with its position and, when
// there is one, the supported alternative.
import type { SqlPosition } from "../errors.js";
import type { ColumnNode, LiteralNode, ParamNode, PredicateNode, ValueNode } from "../ir/nodes.js";
import { and, anyOf, column, compare, inList, isNull, like, literal, not, or, param } from "../ir/nodes.js";
import type { ParamType } from "../ir/params.js";
import { castType } from "../ir/params.js";
import { checkLikePattern } from "../values/like.js";
import type { ConvertContext } from "./context.js";
import type { RawNode } from "./raw-ast.js";
import { asArray, asNode, child, functionArgs, functionName, str } from "./raw-ast.js";

const COMPARE_OPS: Readonly<Record<string, "=" | "<>" | "<" | "<=" | ">" | ">=">> = {
  "=": "=",
  "!=": "<>",
  "<>": "<>",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};

const SUPPORTED = "supported: = != <> < <= > >= BETWEEN IN LIKE 'prefix%' IS [NOT] NULL = ANY(...) AND OR NOT";

export function predicateToIr(ctx: ConvertContext, raw: unknown, at: SqlPosition): PredicateNode {
  const node = asNode(raw);
  const pos = ctx.posOf(node, at);
  if (node === null) return ctx.unsupported(pos, "empty condition");
  const type = str(node, "type");
  if (type === "binary_expr") return binaryToIr(ctx, node, pos);
  if (type === "unary_expr" && str(node, "operator")?.toUpperCase() === "NOT") {
    return not(predicateToIr(ctx, node["expr"], pos));
  }
  if (type === "function" && functionName(node)?.toUpperCase() === "NOT") {
    const args = functionArgs(node);
    if (args.length === 1) return not(predicateToIr(ctx, args[0], pos));
  }
  if (type === "column_ref") {
    // `WHERE active` means `active = TRUE`.
    return compare("=", valueToIr(ctx, node, pos, "any"), literal(true));
  }
  return ctx.unsupported(pos, `${describe(node)} is not supported as a condition (${SUPPORTED})`);
}

function binaryToIr(ctx: ConvertContext, node: RawNode, pos: SqlPosition): PredicateNode {
  const op = (str(node, "operator") ?? "").toUpperCase();
  const left = node["left"];
  const right = node["right"];
  if (op === "AND" || op === "OR") {
    const items = [predicateToIr(ctx, left, pos), predicateToIr(ctx, right, pos)];
    return op === "AND" ? and(items) : or(items);
  }
  const cmp = COMPARE_OPS[op];
  if (cmp !== undefined) {
    const l = asNode(left);
    const r = asNode(right);
    if (isAnyCall(r)) {
      if (cmp !== "=") return ctx.unsupported(pos, `${op} ANY(...) is not supported; only = ANY(...) is`);
      return anyToIr(ctx, valueToIr(ctx, left, pos, "any"), r as RawNode, pos);
    }
    if (isAnyCall(l)) return ctx.unsupported(pos, "ANY(...) must be on the right: write :p = ANY(column)");
    return compare(cmp, valueToIr(ctx, left, pos, "any"), valueToIr(ctx, right, pos, "any"));
  }
  switch (op) {
    case "IN":
    case "NOT IN": {
      const list = asNode(right);
      if (str(list, "type") !== "expr_list") return ctx.unsupported(pos, "IN needs a list of values or :params");
      const items = asArray(list?.["value"]).map((v) => {
        if (asNode(v)?.["ast"] !== undefined) {
          return ctx.unsupported(pos, "subqueries are not supported (v1 is single-table); use IN (:a, :b) or = ANY(:list)");
        }
        return valueToIr(ctx, v, pos, "any");
      });
      return inList(valueToIr(ctx, left, pos, "any"), items, op === "NOT IN");
    }
    case "BETWEEN":
    case "NOT BETWEEN": {
      const bounds = asArray(asNode(right)?.["value"]);
      if (bounds.length !== 2) return ctx.unsupported(pos, "BETWEEN needs two bounds: x BETWEEN low AND high");
      const x = valueToIr(ctx, left, pos, "any");
      const lo = valueToIr(ctx, bounds[0], pos, "any");
      const hi = valueToIr(ctx, bounds[1], pos, "any");
      return op === "BETWEEN"
        ? and([compare(">=", x, lo), compare("<=", x, hi)])
        : or([compare("<", x, lo), compare(">", x, hi)]);
    }
    case "IS":
    case "IS NOT": {
      if (str(asNode(right), "type") !== "null") {
        return ctx.unsupported(pos, `${op} is only supported with NULL (IS NULL, IS NOT NULL); for booleans use = TRUE / = FALSE`);
      }
      return isNull(valueToIr(ctx, left, pos, "any"), op === "IS NOT");
    }
    case "LIKE":
    case "NOT LIKE":
      return likeToIr(ctx, left, right, pos, op === "NOT LIKE");
    case "ILIKE":
    case "NOT ILIKE":
      return ctx.unsupported(pos, "ILIKE is not supported (LIKE is case-sensitive); store a lower-cased copy of the field and use LIKE on it");
    default:
      return ctx.unsupported(pos, `operator ${op} is not supported (${SUPPORTED})`);
  }
}

function likeToIr(ctx: ConvertContext, left: unknown, right: unknown, pos: SqlPosition, negated: boolean): PredicateNode {
  const pattern = valueToIr(ctx, right, pos, "string");
  if (pattern.kind === "column") return ctx.unsupported(pos, "LIKE needs a literal pattern or a :param, not a column");
  if (pattern.kind === "literal") {
    if (typeof pattern.value !== "string") return ctx.unsupported(pos, "LIKE needs a string pattern");
    const problem = checkLikePattern(pattern.value);
    if (problem !== null) return ctx.unsupported(pos, problem);
  }
  return like(valueToIr(ctx, left, pos, "any"), pattern, negated);
}

function isAnyCall(node: RawNode | null): boolean {
  return node !== null && str(node, "type") === "function" && functionName(node)?.toUpperCase() === "ANY";
}

function anyToIr(ctx: ConvertContext, value: ValueNode, call: RawNode, pos: SqlPosition): PredicateNode {
  const args = functionArgs(call);
  if (args.length !== 1) return ctx.unsupported(pos, "ANY takes one argument: = ANY(:list) or :p = ANY(arrayColumn)");
  const arg = asNode(args[0]);
  const argType = str(arg, "type");
  if (argType === "column_ref") {
    return anyOf(value, valueToIr(ctx, arg, pos, "any") as ColumnNode, false);
  }
  if (argType === "param" || argType === "cast") {
    const array = valueToIr(ctx, arg, pos, "any[]");
    if (array.kind !== "param") return ctx.unsupported(pos, "ANY needs a :param or an array column");
    if (value.kind !== "column") return ctx.unsupported(pos, "= ANY(:list) needs a column on the left: column = ANY(:list)");
    return anyOf(value, array, false);
  }
  return ctx.unsupported(pos, "ANY needs a :param (column = ANY(:list)) or an array column (:p = ANY(column))");
}

/** A column, literal or param; `inferred` is the param type this position implies. */
export function valueToIr(ctx: ConvertContext, raw: unknown, at: SqlPosition, inferred: ParamType): ValueNode {
  const node = asNode(raw);
  const pos = ctx.posOf(node, at);
  switch (str(node, "type")) {
    case "column_ref":
      return column(columnPath(ctx, node as RawNode, pos));
    case "number":
    case "bigint": {
      // The parser gives some numbers as strings ("-1.5") and big or exponent forms as "bigint".
      const raw = node?.["value"];
      const v = typeof raw === "string" ? Number(raw) : raw;
      if (typeof v !== "number" || !Number.isFinite(v)) return ctx.unsupported(pos, `number ${String(raw)} is not a finite number`);
      return literal(v === 0 ? 0 : v);
    }
    case "single_quote_string":
      // node-sql-parser keeps the text between the quotes as written: 'it''s' is it's.
      return literal((str(node, "value") ?? "").replaceAll("''", "'"));
    case "string":
      return literal(str(node, "value") ?? "");
    case "bool":
      return literal(node?.["value"] === true);
    case "null":
      return literal(null);
    case "param":
      return useParam(ctx, str(node, "value") ?? "", inferred, false, pos);
    case "cast":
      return castToIr(ctx, node as RawNode, pos, inferred);
    default:
      return ctx.unsupported(pos, `${describe(node)} is not supported here; use a column, a literal or a :param`);
  }
}

function useParam(ctx: ConvertContext, name: string, type: ParamType, declared: boolean, pos: SqlPosition): ParamNode {
  ctx.useParam(name, type, declared, pos);
  return param(name);
}

function castToIr(ctx: ConvertContext, node: RawNode, pos: SqlPosition, inferred: ParamType): ValueNode {
  const inner = child(node, "expr");
  const target = asNode(asArray(node["target"])[0]);
  const dataType = str(target, "dataType") ?? "";
  const isArray = dataType.endsWith("[]") || target?.["array"] !== undefined;
  const scalar = castType(dataType.replace(/\[\]$/, ""));
  if (str(inner, "type") !== "param") {
    return ctx.unsupported(pos, "casts are only supported on parameters (:p::int, CAST(:p AS INTEGER)); write the literal in its type");
  }
  if (scalar === null) {
    return ctx.unsupported(pos, `cast to ${dataType} is not supported; use int, integer, bigint, float, real, numeric, text, varchar or boolean`);
  }
  if (isArray !== inferred.endsWith("[]")) {
    return ctx.unsupported(pos, isArray ? "an array cast is only valid in = ANY(:p::type[])" : "= ANY(:p) needs an array cast (:p::text[]) or none");
  }
  return useParam(ctx, str(inner, "value") ?? "", isArray ? `${scalar}[]` : scalar, true, pos);
}

/** `name`, `address.city`, `t.name` (t the table or its alias), `t.address.city`. */
export function columnPath(ctx: ConvertContext, node: RawNode, pos: SqlPosition): string[] {
  const col = node["column"];
  const name = typeof col === "string" ? col : str(child(asNode(col), "expr"), "value");
  if (name === null || name === "*") return ctx.unsupported(pos, "* is only allowed as the whole select list");
  const path = [str(node, "schema"), str(node, "table"), name].filter((p): p is string => p !== null);
  if (path.length > 1 && ctx.tableNames.has(path[0] as string)) path.shift();
  return path;
}

function describe(node: RawNode | null): string {
  const type = str(node, "type") ?? "this expression";
  if (node !== null && (type === "function" || type === "aggr_func")) return `function ${functionName(node) ?? "?"}()`;
  if (type === "binary_expr") return `operator ${str(node, "operator") ?? "?"}`;
  if (type === "unary_expr") return `unary ${str(node, "operator") ?? "?"}`;
  return type.replace(/_/g, " ");
}
