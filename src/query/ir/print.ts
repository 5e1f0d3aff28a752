// Prints IR back as SQL-like text, for explain() and error messages.
import type { LiteralValue, PredicateNode, ValueNode } from "./nodes.js";

export function printValue(v: ValueNode): string {
  switch (v.kind) {
    case "column":
      return v.path.join(".");
    case "param":
      return `:${v.name}`;
    case "literal":
      return printLiteral(v.value);
  }
}

export function printLiteral(v: LiteralValue | undefined): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "string") return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  return String(v);
}

export function printPredicate(p: PredicateNode): string {
  switch (p.kind) {
    case "compare":
      return `${printValue(p.left)} ${p.op} ${printValue(p.right)}`;
    case "in":
      return `${printValue(p.operand)}${p.negated ? " NOT" : ""} IN (${p.list.map(printValue).join(", ")})`;
    case "any":
      return `${p.negated ? "NOT " : ""}${printValue(p.value)} = ANY(${printValue(p.array)})`;
    case "isNull":
      return `${printValue(p.operand)} IS ${p.negated ? "NOT " : ""}NULL`;
    case "like":
      return `${printValue(p.operand)}${p.negated ? " NOT" : ""} LIKE ${printValue(p.pattern)}`;
    case "and":
      return p.items.map((i) => (i.kind === "or" ? `(${printPredicate(i)})` : printPredicate(i))).join(" AND ");
    case "or":
      return p.items.map((i) => (i.kind === "and" ? `(${printPredicate(i)})` : printPredicate(i))).join(" OR ");
    case "not":
      return `NOT (${printPredicate(p.operand)})`;
  }
}
