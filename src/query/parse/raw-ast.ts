// Narrow, typed access to node-sql-parser's untyped AST (its .d.ts is loose).
// Every accessor tolerates a missing or differently-shaped field by returning
// null, so an unexpected AST becomes an "unsupported" error, never a crash.

export type RawNode = Readonly<Record<string, unknown>>;

export function asNode(x: unknown): RawNode | null {
  return typeof x === "object" && x !== null && !Array.isArray(x) ? (x as RawNode) : null;
}

export function asArray(x: unknown): readonly unknown[] {
  return Array.isArray(x) ? (x as readonly unknown[]) : [];
}

export function str(node: RawNode | null, field: string): string | null {
  const v = node?.[field];
  return typeof v === "string" ? v : null;
}

export function child(node: RawNode | null, field: string): RawNode | null {
  return asNode(node?.[field]);
}

/** `loc.start.offset` of a node, when the parser recorded one. */
export function offsetOf(node: RawNode | null): number | null {
  const start = child(child(node, "loc"), "start");
  const o = start?.["offset"];
  return typeof o === "number" ? o : null;
}

/** Name of a function node: `{name: {name: [{value}]}}` (or a plain string in some builds). */
export function functionName(node: RawNode): string | null {
  const n = node["name"];
  if (typeof n === "string") return n;
  const parts = asArray(asNode(n)?.["name"]);
  const names = parts.map((p) => str(asNode(p), "value")).filter((s): s is string => s !== null);
  return names.length > 0 ? names.join(".") : null;
}

export function functionArgs(node: RawNode): readonly unknown[] {
  const args = child(node, "args");
  if (args === null) return [];
  if (str(args, "type") === "expr_list") return asArray(args["value"]);
  const expr = args["expr"];
  return expr === undefined ? [] : [expr];
}
