// Random schemas and rows for the SQLite differential test. A column has one
// type (plus NULL); nested columns (info.k) are flat columns (info__k) in
// SQLite; the array column `tags` is JSON text in SQLite.
import type { Random } from "./random.js";

export type ColType = "int" | "real" | "text" | "bool";
export interface Col {
  readonly path: readonly string[];
  readonly type: ColType;
  readonly nullable: boolean;
}
export interface Schema {
  readonly cols: readonly Col[];
  readonly hasTags: boolean;
}

const TEXTS = ["", "a", "ab", "abc", "abd", "b", "B", "ba", "é", "z", "😀", "\uffff", "a b", "it's", "'"];
const INTS = [-3, -1, 0, 1, 2, 3, 10];
const REALS = [-1.5, 0, 0.25, 1, 2.5, 1e9];
export const TAGS = ["x", "y", "z", "w"];

export function sqliteName(path: readonly string[]): string {
  return path.join("__");
}

export function randomSchema(r: Random): Schema {
  const n = r.int(2, 5);
  const cols: Col[] = [];
  for (let i = 0; i < n; i++) {
    const path = i === n - 1 && r.chance(0.4) ? ["info", "k"] : [`c${i}`];
    cols.push({ path, type: r.pick(["int", "real", "text", "text", "bool"] as const), nullable: r.chance(0.7) });
  }
  return { cols, hasTags: r.chance(0.6) };
}

export function randomValue(r: Random, type: ColType): null | boolean | number | string {
  switch (type) {
    case "int":
      return r.pick(INTS);
    case "real":
      return r.pick(REALS);
    case "text":
      return r.pick(TEXTS);
    case "bool":
      return r.chance(0.5);
  }
}

export type Row = Record<string, unknown>;

export function randomRow(r: Random, s: Schema): Row {
  const row: Row = {};
  for (const c of s.cols) {
    const v = c.nullable && r.chance(0.2) ? null : randomValue(r, c.type);
    if (c.path.length === 2) {
      if (v === null && r.chance(0.5)) continue; // missing object: info.k reads as NULL
      row[c.path[0] as string] = { [c.path[1] as string]: v };
    } else if (v !== null || r.chance(0.5)) row[c.path[0] as string] = v; // missing field = NULL
  }
  if (s.hasTags && !r.chance(0.15)) {
    const n = r.int(0, 3);
    row["tags"] = Array.from({ length: n }, () => r.pick(TAGS));
  }
  return row;
}

/** The SQLite row for one of ours: flat columns, booleans as 0/1, tags as JSON. */
export function sqliteRow(s: Schema, pk: string, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = { pk };
  for (const c of s.cols) {
    let v: unknown = row;
    for (const p of c.path) v = typeof v === "object" && v !== null ? (v as Row)[p] : undefined;
    out[sqliteName(c.path)] = v === undefined ? null : typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  if (s.hasTags) out["tags"] = row["tags"] === undefined ? null : JSON.stringify(row["tags"]);
  return out;
}
