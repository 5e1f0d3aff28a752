// Prints a compiled query's plan for humans (`calyx views explain`).
import type { ParamInfo } from "../ir/params.js";
import { printPredicate, printValue } from "../ir/print.js";
import type { EqSource, IndexScan, OrderKey, QueryPlan, RangeSource } from "./plan-nodes.js";

function eqText(src: EqSource): string {
  switch (src.kind) {
    case "value":
      return `= ${printValue(src.value)}`;
    case "list":
      return `IN (${src.values.map(printValue).join(", ")})`;
    case "array":
      return `= ANY(${printValue(src.param)})`;
    case "null":
      return "IS NULL";
  }
}

function rangeText(r: RangeSource): string {
  if (r.like !== null) return `LIKE ${printValue(r.like)} (prefix range)`;
  const parts = r.bounds.map((b) => `${b.op} ${printValue(b.value)}`);
  if (parts.length === 0 && r.notNull) parts.push("IS NOT NULL");
  return parts.join(" AND ");
}

function orderText(order: readonly OrderKey[]): string {
  return order.map((o) => `${o.path === null ? "pk" : o.path.join(".")}${o.desc ? " DESC" : ""}`).join(", ");
}

function scanText(s: IndexScan, indent: string): string[] {
  const lines = [`${indent}index scan ${s.index.id}`];
  const cols = s.index.columns;
  s.eq.forEach((e, i) => {
    const c = cols[i];
    if (c !== undefined) lines.push(`${indent}  ${c.path.join(".")}${c.each ? "[] (one entry per element)" : ""} ${eqText(e)}`);
  });
  const rc = cols[s.eq.length];
  if (s.range !== null && rc !== undefined) lines.push(`${indent}  ${rc.path.join(".")} ${rangeText(s.range)}`);
  if (s.eq.length === 0 && s.range === null) lines.push(`${indent}  whole index (no WHERE)`);
  lines.push(`${indent}  yields rows by ${orderText(s.yields)}`);
  return lines;
}

export interface ExplainInput {
  readonly view: string;
  readonly query: string;
  readonly table: string;
  readonly params: readonly ParamInfo[];
  readonly plan: QueryPlan;
  readonly limit: string;
  readonly offset: string;
  readonly shape: string;
  readonly maxRows: number;
}

export function explainPlan(x: ExplainInput): string {
  const { plan } = x;
  const lines = [`view ${x.view}, query ${x.query} (table ${x.table})`];
  lines.push(`params: ${x.params.length === 0 ? "none" : x.params.map((p) => `:${p.name} ${p.type}${p.optional ? " (optional)" : ""}`).join(", ")}`);
  const a = plan.access;
  if (a.kind === "tableScan") lines.push("table scan in pk order (no WHERE)");
  else if (a.kind === "indexScan") lines.push(...scanText(a, ""));
  else {
    lines.push(`union of ${a.scans.length} scans (OR), rows deduplicated by pk`);
    for (const s of a.scans) lines.push(...scanText(s, "  "));
  }
  lines.push(`filter: ${plan.filter === null ? "none" : `${printPredicate(plan.filter)} (re-checked on every row read)`}`);
  const how =
    plan.mode === "merge"
      ? a.kind === "tableScan" || (a.kind === "indexScan" && a.eq.every((e) => e.kind === "value" || e.kind === "null"))
        ? "index order"
        : "index order, ranges merged"
      : plan.mode === "topK"
        ? "sorted in memory: top OFFSET+LIMIT rows kept"
        : "unordered (no ORDER BY/LIMIT), deduplicated";
  lines.push(`order: ${orderText(plan.order)} (${how})`);
  lines.push(`limit: ${x.limit}; offset: ${x.offset}; row cap: ${x.maxRows}`);
  lines.push(`result: ${x.shape}`);
  return lines.join("\n");
}
