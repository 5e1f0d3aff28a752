// The routing index of one compiled query: its pipelines, found from a row by
// hash (eq), by interval (range) or all of them (all); see route-spec.ts.
import { compareSql, readPath, toSqlValue } from "../query/values/value.js";
import type { Row } from "../query/types.js";
import { IntervalIndex } from "./interval-index.js";
import type { Params } from "./params.js";
import { pipelineInterval, pipelineKeys, rowKeys, type RouteSpec, type Scalar } from "./route-spec.js";

export class RouteIndex<P> {
  readonly spec: RouteSpec;
  readonly #byKey = new Map<string, Set<P>>();
  readonly #keysOf = new Map<P, string[]>();
  readonly #byType = new Map<string, IntervalIndex<P, Scalar>>();
  readonly #typeOf = new Map<P, string>();
  readonly #all = new Set<P>();

  constructor(spec: RouteSpec) {
    this.spec = spec;
  }

  get size(): number {
    return this.spec.kind === "eq" ? this.#keysOf.size : this.spec.kind === "range" ? this.#typeOf.size : this.#all.size;
  }

  add(p: P, params: Params): void {
    const spec = this.spec;
    if (spec.kind === "eq") {
      const keys = pipelineKeys(spec.terms, params);
      this.#keysOf.set(p, keys);
      for (const k of keys) {
        let set = this.#byKey.get(k);
        if (set === undefined) this.#byKey.set(k, (set = new Set()));
        set.add(p);
      }
    } else if (spec.kind === "range") {
      const iv = pipelineInterval(spec.bounds, params);
      if (iv === null) return; // no row can match
      let index = this.#byType.get(iv.type);
      if (index === undefined) this.#byType.set(iv.type, (index = new IntervalIndex<P, Scalar>((a, b) => compareSql(a, b) ?? 0)));
      index.set(p, iv.lo, iv.hi);
      this.#typeOf.set(p, iv.type);
    } else this.#all.add(p);
  }

  delete(p: P): void {
    for (const k of this.#keysOf.get(p) ?? []) {
      const set = this.#byKey.get(k);
      set?.delete(p);
      if (set?.size === 0) this.#byKey.delete(k);
    }
    this.#keysOf.delete(p);
    const type = this.#typeOf.get(p);
    if (type !== undefined) this.#byType.get(type)?.delete(p);
    this.#typeOf.delete(p);
    this.#all.delete(p);
  }

  /** Equality routing only: the keys a row is filed under (what match() looks up for it). */
  rowKeys(row: Row): string[] {
    if (this.spec.kind !== "eq") throw new Error(`RouteIndex.rowKeys: a ${this.spec.kind} index has no keys`);
    return rowKeys(this.spec.terms, row);
  }

  /** Equality routing only: calls `hit` for every pipeline filed under one of `keys`. */
  matchKeys(keys: Iterable<string>, hit: (p: P) => void): void {
    for (const k of keys) {
      const set = this.#byKey.get(k);
      if (set !== undefined) for (const p of set) hit(p);
    }
  }

  /** Equality routing only: whether pipeline `p` is filed under one of `keys`. */
  filedUnder(p: P, keys: ReadonlySet<string>): boolean {
    for (const k of this.#keysOf.get(p) ?? []) if (keys.has(k)) return true;
    return false;
  }

  /** Calls `hit` for every pipeline this row may belong to (possibly more than once). */
  match(row: Row, hit: (p: P) => void): void {
    const spec = this.spec;
    if (spec.kind === "eq") this.matchKeys(rowKeys(spec.terms, row), hit);
    else if (spec.kind === "range") {
      const v = toSqlValue(readPath(row, spec.path));
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") this.#byType.get(typeof v)?.stab(v, hit);
    } else for (const p of this.#all) hit(p);
  }
}
