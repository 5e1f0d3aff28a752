// The query IR: frozen plain objects with a `kind`, built by parse/to-ir.ts
// from node-sql-parser's AST and consumed by plan/ and exec/. Nothing here
// knows SQL text or storage keys.
import type { SqlPosition } from "../errors.js";

/** A scalar SQL literal. Arrays and objects only come from rows and params. */
export type LiteralValue = null | boolean | number | string;

/** A field of the row; `path` has one element for `name`, more for `address.city`. */
export interface ColumnNode {
  readonly kind: "column";
  readonly path: readonly string[];
}
export interface LiteralNode {
  readonly kind: "literal";
  readonly value: LiteralValue;
}
export interface ParamNode {
  readonly kind: "param";
  readonly name: string;
}
/** Values a predicate compares. */
export type ValueNode = ColumnNode | LiteralNode | ParamNode;

export type CompareOp = "=" | "<>" | "<" | "<=" | ">" | ">=";

export interface CompareNode {
  readonly kind: "compare";
  readonly op: CompareOp;
  readonly left: ValueNode;
  readonly right: ValueNode;
}
/** `operand [NOT] IN (list)`. */
export interface InNode {
  readonly kind: "in";
  readonly operand: ValueNode;
  readonly list: readonly ValueNode[];
  readonly negated: boolean;
}
/** `value = ANY(array)`: array is an array param (an IN list) or an array column (membership). */
export interface AnyNode {
  readonly kind: "any";
  readonly value: ValueNode;
  readonly array: ColumnNode | ParamNode;
  readonly negated: boolean;
}
export interface IsNullNode {
  readonly kind: "isNull";
  readonly operand: ValueNode;
  readonly negated: boolean;
}
/** `operand [NOT] LIKE pattern`, pattern a prefix pattern 'abc%' or an exact string. */
export interface LikeNode {
  readonly kind: "like";
  readonly operand: ValueNode;
  readonly pattern: LiteralNode | ParamNode;
  readonly negated: boolean;
}
export interface AndNode {
  readonly kind: "and";
  readonly items: readonly PredicateNode[];
}
export interface OrNode {
  readonly kind: "or";
  readonly items: readonly PredicateNode[];
}
export interface NotNode {
  readonly kind: "not";
  readonly operand: PredicateNode;
}
export type PredicateNode = CompareNode | InNode | AnyNode | IsNullNode | LikeNode | AndNode | OrNode | NotNode;

export interface OrderTerm {
  readonly path: readonly string[];
  readonly desc: boolean;
}

/** One output column of a column list. */
export interface OutputColumn {
  readonly path: readonly string[];
  /** Name in the result: the alias, else the last path element. */
  readonly as: string;
}
export type Projection =
  | { readonly kind: "star" }
  | { readonly kind: "columns"; readonly columns: readonly OutputColumn[] };

/** `SELECT * AS items, next_page_token() AS t, has_more() AS m, total_count() AS n`. */
export interface PageWrapper {
  readonly itemsField: string;
  readonly nextPageTokenField: string | null;
  readonly hasMoreField: string | null;
  readonly totalCountField: string | null;
}

export type CountExpr = LiteralNode | ParamNode;

export type OffsetNode = LiteralNode | ParamNode | { readonly kind: "pageToken"; readonly param: string };

export interface SelectNode {
  readonly kind: "select";
  readonly table: string;
  readonly projection: Projection;
  /** Set when the select list wraps rows: `SELECT * AS items, ...`. */
  readonly wrapper: PageWrapper | null;
  /** Set for `SELECT COUNT(*) [AS name]`: the result is one row {name: n}. */
  readonly countField: string | null;
  readonly where: PredicateNode | null;
  readonly whereAt: SqlPosition;
  readonly orderBy: readonly OrderTerm[];
  readonly limit: CountExpr | null;
  readonly offset: OffsetNode | null;
}

// Constructors: every node is frozen so plans can share and cache them safely.
export const column = (path: readonly string[]): ColumnNode => Object.freeze({ kind: "column", path: Object.freeze([...path]) });
export const literal = (value: LiteralValue): LiteralNode => Object.freeze({ kind: "literal", value });
export const param = (name: string): ParamNode => Object.freeze({ kind: "param", name });
export const compare = (op: CompareOp, left: ValueNode, right: ValueNode): CompareNode =>
  Object.freeze({ kind: "compare", op, left, right });
export const inList = (operand: ValueNode, list: readonly ValueNode[], negated: boolean): InNode =>
  Object.freeze({ kind: "in", operand, list: Object.freeze([...list]), negated });
export const anyOf = (value: ValueNode, array: ColumnNode | ParamNode, negated: boolean): AnyNode =>
  Object.freeze({ kind: "any", value, array, negated });
export const isNull = (operand: ValueNode, negated: boolean): IsNullNode => Object.freeze({ kind: "isNull", operand, negated });
export const like = (operand: ValueNode, pattern: LiteralNode | ParamNode, negated: boolean): LikeNode =>
  Object.freeze({ kind: "like", operand, pattern, negated });
export const and = (items: readonly PredicateNode[]): AndNode => Object.freeze({ kind: "and", items: Object.freeze([...items]) });
export const or = (items: readonly PredicateNode[]): OrNode => Object.freeze({ kind: "or", items: Object.freeze([...items]) });
export const not = (operand: PredicateNode): NotNode => Object.freeze({ kind: "not", operand });

export function pathKey(path: readonly string[]): string {
  return path.join(".");
}
