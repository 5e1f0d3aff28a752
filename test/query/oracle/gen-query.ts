// Random queries in the v1 subset, rendered twice: in Calyx SQL and in an
// SQLite equivalent with the same semantics (ANY rewritten with json_each).
import { compileView } from "../../../src/query/compile-view.js";
import { ViewCompileError } from "../../../src/query/errors.js";
import type { Random } from "./random.js";
import type { Col, Schema } from "./schema.js";
import { TAGS, randomValue, sqliteName } from "./schema.js";

type Scalar = null | boolean | number | string;
type Val = { lit: Scalar } | { param: string; value: unknown };
type Cond =
  | { k: "cmp"; op: string; col: Col; v: Val }
  | { k: "cmpcol"; op: string; a: Col; b: Col }
  | { k: "in"; col: Col; vals: Val[]; neg: boolean }
  | { k: "between"; col: Col; lo: Val; hi: Val; neg: boolean }
  | { k: "isnull"; col: Col; neg: boolean }
  | { k: "like"; col: Col; pat: Val; neg: boolean }
  | { k: "anyarr"; col: Col; param: string; value: unknown[] }
  | { k: "contains"; v: Val }
  | { k: "bare"; col: Col }
  | { k: "and" | "or"; items: Cond[] }
  | { k: "not"; item: Cond };

export interface GenQuery {
  readonly where: Cond | null;
  readonly order: { col: Col; desc: boolean }[];
  readonly limit: Val | null;
  readonly offset: Val | null;
  readonly params: Record<string, unknown>;
}

class Gen {
  private n = 0;
  readonly params: Record<string, unknown> = {};
  constructor(
    readonly r: Random,
    readonly s: Schema,
  ) {}

  val(col: Col): Val {
    const v = this.r.chance(0.08) ? null : randomValue(this.r, col.type);
    if (this.r.chance(0.5)) {
      const name = `p${this.n++}`;
      this.params[name] = v;
      return { param: name, value: v };
    }
    return { lit: v };
  }

  leaf(indexable: boolean): Cond {
    const r = this.r;
    const col = r.pick(this.s.cols);
    const kinds = indexable ? ["eq", "range", "in", "between", "isnull", "like", "anyarr", "contains"] : ["eq", "range", "ne", "in", "between", "isnull", "like", "anyarr", "contains", "cmpcol", "bare"];
    const k = r.pick(kinds);
    switch (k) {
      case "eq":
        return { k: "cmp", op: "=", col, v: this.val(col) };
      case "ne":
        return { k: "cmp", op: r.pick(["<>", "!="]), col, v: this.val(col) };
      case "range":
        return { k: "cmp", op: r.pick(["<", "<=", ">", ">="]), col, v: this.val(col) };
      case "in":
        return { k: "in", col, vals: Array.from({ length: r.int(1, 3) }, () => this.val(col)), neg: !indexable && r.chance(0.3) };
      case "between":
        return { k: "between", col, lo: this.val(col), hi: this.val(col), neg: !indexable && r.chance(0.3) };
      case "isnull":
        return { k: "isnull", col, neg: r.chance(0.5) };
      case "like": {
        const c = this.s.cols.find((x) => x.type === "text");
        if (c === undefined) return { k: "cmp", op: "=", col, v: this.val(col) };
        const base = r.pick(["", "a", "ab", "b", "é", "abc", "😀"]);
        const pat = r.chance(0.8) ? `${base}%` : base;
        const name = `p${this.n++}`;
        const v: Val = r.chance(0.5) ? { lit: pat } : { param: name, value: pat };
        if ("param" in v) this.params[name] = pat;
        return { k: "like", col: c, pat: v, neg: !indexable && r.chance(0.3) };
      }
      case "anyarr": {
        if (col.type === "bool") return { k: "isnull", col, neg: false };
        const name = `p${this.n++}`;
        const value = Array.from({ length: r.int(0, 3) }, () => randomValue(r, col.type));
        this.params[name] = value;
        return { k: "anyarr", col, param: name, value };
      }
      case "contains": {
        if (!this.s.hasTags) return { k: "cmp", op: "=", col, v: this.val(col) };
        const tag = r.chance(0.1) ? null : r.pick(TAGS);
        if (r.chance(0.5)) return { k: "contains", v: { lit: tag } };
        const name = `p${this.n++}`;
        this.params[name] = tag;
        return { k: "contains", v: { param: name, value: tag } };
      }
      case "cmpcol": {
        const same = this.s.cols.filter((c) => c !== col && sameClass(c, col));
        if (same.length === 0) return { k: "isnull", col, neg: true };
        return { k: "cmpcol", op: r.pick(["=", "<", ">=", "<>"]), a: col, b: r.pick(same) };
      }
      default: {
        const b = this.s.cols.find((c) => c.type === "bool");
        return b === undefined ? { k: "isnull", col, neg: false } : { k: "bare", col: b };
      }
    }
  }

  /** A WHERE that is usually indexable: an indexable core ANDed with noise, or an OR of such. */
  where(depth: number): Cond {
    const r = this.r;
    const roll = r.next();
    if (roll < 0.45 || depth > 1) {
      const items = [this.leaf(true)];
      for (let i = r.int(0, 2); i > 0; i--) items.push(r.chance(0.7) ? this.leaf(false) : this.noise(depth + 1));
      return items.length === 1 ? (items[0] as Cond) : { k: "and", items };
    }
    if (roll < 0.75) return { k: "or", items: [this.where(depth + 1), this.where(depth + 1)] };
    if (roll < 0.85) return { k: "not", item: { k: "not", item: this.where(depth + 1) } };
    return this.noise(depth + 1); // often unindexable: must be rejected, not scanned
  }

  noise(depth: number): Cond {
    const r = this.r;
    if (depth > 2 || r.chance(0.5)) return this.leaf(false);
    if (r.chance(0.3)) return { k: "not", item: this.noise(depth + 1) };
    return { k: r.chance(0.5) ? "and" : "or", items: [this.noise(depth + 1), this.noise(depth + 1)] };
  }
}

function sameClass(a: Col, b: Col): boolean {
  const cls = (c: Col): string => (c.type === "real" ? "int" : c.type);
  return cls(a) === cls(b);
}

export function randomQuery(r: Random, s: Schema): GenQuery {
  const g = new Gen(r, s);
  const where = r.chance(0.08) ? null : g.where(0);
  const order: { col: Col; desc: boolean }[] = [];
  for (let i = r.pick([0, 0, 1, 1, 1, 2]); i > 0; i--) {
    const col = r.pick(s.cols);
    if (!order.some((o) => o.col === col)) order.push({ col, desc: r.chance(0.4) });
  }
  const intVal = (lo: number, hi: number): Val => {
    const v = r.int(lo, hi);
    if (r.chance(0.5)) return { lit: v };
    const name = `p${Object.keys(g.params).length + 100}`;
    g.params[name] = v;
    return { param: name, value: v };
  };
  const limit = r.chance(0.6) ? intVal(0, 8) : null;
  const offset = r.chance(0.25) ? intVal(0, 4) : null;
  return { where, order, limit, offset, params: g.params };
}

// ---- rendering ----

function lit(v: Scalar, sqlite: boolean): string {
  if (v === null) return "NULL";
  if (typeof v === "string") return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === "boolean") return sqlite ? (v ? "1" : "0") : v ? "TRUE" : "FALSE";
  return String(v);
}
function val(v: Val, sqlite: boolean): string {
  return "lit" in v ? lit(v.lit, sqlite) : `:${v.param}`;
}
function colName(c: Col, sqlite: boolean): string {
  return sqlite ? sqliteName(c.path) : c.path.join(".");
}

export function renderCond(c: Cond, sqlite: boolean): string {
  const col = (x: Col): string => colName(x, sqlite);
  switch (c.k) {
    case "cmp":
      return `${col(c.col)} ${c.op} ${val(c.v, sqlite)}`;
    case "cmpcol":
      return `${col(c.a)} ${c.op} ${col(c.b)}`;
    case "in":
      return `${col(c.col)}${c.neg ? " NOT" : ""} IN (${c.vals.map((v) => val(v, sqlite)).join(", ")})`;
    case "between":
      return `${col(c.col)}${c.neg ? " NOT" : ""} BETWEEN ${val(c.lo, sqlite)} AND ${val(c.hi, sqlite)}`;
    case "isnull":
      return `${col(c.col)} IS ${c.neg ? "NOT " : ""}NULL`;
    case "like":
      return `${col(c.col)}${c.neg ? " NOT" : ""} LIKE ${val(c.pat, sqlite)}`;
    case "anyarr":
      return sqlite ? `${col(c.col)} IN (SELECT value FROM json_each(:${c.param}))` : `${col(c.col)} = ANY(:${c.param})`;
    case "contains": {
      const p = val(c.v, sqlite);
      if (!sqlite) return `${p} = ANY(tags)`;
      return `(CASE WHEN tags IS NULL THEN NULL WHEN EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ${p}) THEN 1 WHEN ${p} IS NULL AND json_array_length(tags) > 0 THEN NULL ELSE 0 END)`;
    }
    case "bare":
      return col(c.col);
    case "and":
    case "or":
      return `(${c.items.map((i) => renderCond(i, sqlite)).join(c.k === "and" ? " AND " : " OR ")})`;
    case "not":
      return `NOT (${renderCond(c.item, sqlite)})`;
  }
}

export function renderCalyx(q: GenQuery, table: string): string {
  let sql = `SELECT * FROM ${table}`;
  if (q.where !== null) sql += ` WHERE ${renderCond(q.where, false)}`;
  if (q.order.length > 0) sql += ` ORDER BY ${q.order.map((o) => `${colName(o.col, false)} ${o.desc ? "DESC" : "ASC"}`).join(", ")}`;
  if (q.limit !== null) sql += ` LIMIT ${val(q.limit, false)}`;
  if (q.offset !== null) sql += ` OFFSET ${val(q.offset, false)}`;
  return sql;
}

/** SQLite: the same WHERE, no LIMIT/OFFSET (applied in JS), ordered by `order` (path null = pk). */
export function renderSqlite(q: GenQuery, table: string, order: readonly { path: readonly string[] | null; desc: boolean }[]): string {
  let sql = `SELECT pk FROM ${table}`;
  if (q.where !== null) sql += ` WHERE ${renderCond(q.where, true)}`;
  if (order.length > 0) sql += ` ORDER BY ${order.map((o) => `${o.path === null ? "pk" : sqliteName(o.path)} ${o.desc ? "DESC" : "ASC"}`).join(", ")}`;
  return sql;
}

/** Params as SQLite binds them: booleans 0/1, arrays JSON; only those the SQL uses. */
export function sqliteParams(params: Record<string, unknown>, sql: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (!new RegExp(`:${k}\\b`).test(sql)) continue;
    out[k] = typeof v === "boolean" ? (v ? 1 : 0) : Array.isArray(v) ? JSON.stringify(v) : v;
  }
  return out;
}

/**
 * Random queries that Calyx compiles (the others are skipped), named q<i>
 * after the attempt that produced them: at most `want`, in `tries` attempts.
 */
export function compilableQueries(r: Random, s: Schema, table: string, want: number, tries: number): Map<string, { gen: GenQuery; sql: string }> {
  const out = new Map<string, { gen: GenQuery; sql: string }>();
  for (let i = 0; out.size < want && i < tries; i++) {
    const gen = randomQuery(r, s);
    const sql = renderCalyx(gen, table);
    try {
      compileView({ name: "v", table, queries: { q: { sql } } });
    } catch (e) {
      if (e instanceof ViewCompileError) continue;
      throw e;
    }
    out.set(`q${i}`, { gen, sql });
  }
  return out;
}
