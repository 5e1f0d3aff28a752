// Turns an IndexScan template into concrete key ranges for one execution.
// Equality sources give points (their cartesian product); the range column
// gives one value interval, confined to the type of its bounds (comparisons
// are strict: `x > 5` never matches strings), then mapped to key bytes with
// the column's direction. Ranges only narrow: the filter re-checks each row.
import { encodeKey, encodeStringPrefix, prefixEnd } from "../../storage/key-codec.js";
import type { KeyPart } from "../../storage/store.js";
import { QueryError } from "../errors.js";
import type { LiteralNode, ParamNode } from "../ir/nodes.js";
import { SCAN_RANGES_MAX } from "../limits.js";
import { parseLikePattern } from "../values/like.js";
import type { Scalar } from "../values/value.js";
import { COMPLEX, compareSql, toKeyPart, toSqlValue } from "../values/value.js";
import type { Params } from "../exec/params.js";
import type { EqSource, IndexScan, RangeSource } from "./plan-nodes.js";

export interface KeyRange {
  readonly start: Buffer;
  readonly end: Buffer;
  /** The equality values of this range (index columns 0 .. eq.length). */
  readonly points: readonly KeyPart[];
}

function resolve(v: LiteralNode | ParamNode, params: Params): Scalar {
  const s = v.kind === "literal" ? v.value : toSqlValue(params[v.name]);
  return s === COMPLEX ? null : s;
}

/** Distinct non-null key parts an equality source matches. */
function points(src: EqSource, params: Params): KeyPart[] {
  let raw: unknown[];
  switch (src.kind) {
    case "null":
      return [null];
    case "value":
      raw = [resolve(src.value, params)];
      break;
    case "list":
      raw = src.values.map((v) => resolve(v, params));
      break;
    case "array": {
      const arr = params[src.param.name];
      raw = Array.isArray(arr) ? (arr as unknown[]).map(toSqlValue) : [];
      break;
    }
  }
  const seen = new Set<string>();
  const out: KeyPart[] = [];
  for (const r of raw) {
    if (r === null || r === COMPLEX) continue;
    const part = toKeyPart(r);
    const k = `${typeof part}:${String(part)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(part);
  }
  return out;
}

interface Bound {
  readonly v: Exclude<Scalar, null>;
  readonly incl: boolean;
}
type Interval = { lo: Bound | null; hi: Bound | null; prefix: string | null; notNull: boolean } | "empty";

const TYPE_LOW: Readonly<Record<string, Exclude<Scalar, null>>> = { number: -Infinity, string: "", boolean: false };
const TYPE_HIGH: Readonly<Record<string, Exclude<Scalar, null> | null>> = { number: Infinity, string: null, boolean: true };

function interval(src: RangeSource, params: Params): Interval {
  if (src.like !== null) {
    const p = resolve(src.like, params);
    if (typeof p !== "string") return "empty";
    const pat = parseLikePattern(p);
    if (pat.exact) return { lo: { v: pat.prefix, incl: true }, hi: { v: pat.prefix, incl: true }, prefix: null, notNull: true };
    return { lo: null, hi: null, prefix: pat.prefix, notNull: true };
  }
  let lo: Bound | null = null;
  let hi: Bound | null = null;
  for (const b of src.bounds) {
    const v = resolve(b.value, params);
    if (v === null) return "empty";
    const bound = { v, incl: b.op === ">=" || b.op === "<=" };
    if (b.op === ">" || b.op === ">=") {
      const c = lo === null ? 1 : compareSql(v, lo.v);
      if (c === null) return "empty";
      if (c > 0 || (c === 0 && !bound.incl)) lo = bound;
    } else {
      const c = hi === null ? -1 : compareSql(v, hi.v);
      if (c === null) return "empty";
      if (c < 0 || (c === 0 && !bound.incl)) hi = bound;
    }
  }
  if (lo === null && hi === null) return { lo: null, hi: null, prefix: null, notNull: true };
  const type = typeof (lo ?? hi)!.v;
  if (lo !== null && hi !== null) {
    const c = compareSql(lo.v, hi.v);
    if (c === null || c > 0 || (c === 0 && !(lo.incl && hi.incl))) return "empty";
  }
  lo ??= { v: TYPE_LOW[type] as Exclude<Scalar, null>, incl: true };
  if (hi === null) {
    const h = TYPE_HIGH[type] ?? null;
    hi = h === null ? null : { v: h, incl: true };
  }
  return { lo, hi, prefix: null, notNull: true };
}

/** Key part of a bound; a lossy (truncated) part widens the bound to inclusive. */
function boundPart(b: Bound): { part: KeyPart; incl: boolean } {
  const part = toKeyPart(b.v);
  return { part, incl: b.incl || part !== b.v };
}

function keyRange(prefix: KeyPart[], flags: boolean[], desc: boolean, iv: Exclude<Interval, "empty">): { start: Buffer; end: Buffer } {
  const whole = encodeKey(prefix, flags);
  if (iv.prefix !== null) {
    const start = encodeStringPrefix(prefix, iv.prefix, flags);
    return { start, end: prefixEnd(start) };
  }
  const at = (p: KeyPart): Buffer => encodeKey([...prefix, p], flags);
  const lo = iv.lo === null ? null : boundPart(iv.lo);
  const hi = iv.hi === null ? null : boundPart(iv.hi);
  if (!desc) {
    const start = lo === null ? prefixEnd(at(null)) : lo.incl ? at(lo.part) : prefixEnd(at(lo.part));
    const end = hi === null ? prefixEnd(whole) : hi.incl ? prefixEnd(at(hi.part)) : at(hi.part);
    return { start, end };
  }
  const start = hi === null ? whole : hi.incl ? at(hi.part) : prefixEnd(at(hi.part));
  const end = lo === null ? at(null) : lo.incl ? prefixEnd(at(lo.part)) : at(lo.part);
  return { start, end };
}

/** The key ranges of one scan for these params (one per equality tuple; merged by the executor). */
export function scanRanges(scan: IndexScan, params: Params): KeyRange[] {
  const cols = scan.index.columns;
  let tuples: KeyPart[][] = [[]];
  for (const src of scan.eq) {
    const ps = points(src, params);
    const next: KeyPart[][] = [];
    for (const t of tuples) for (const p of ps) next.push([...t, p]);
    if (next.length > SCAN_RANGES_MAX) {
      throw new QueryError("ERR_TOO_MANY_RANGES", `this query would open ${next.length} index ranges (over ${SCAN_RANGES_MAX}); pass shorter IN lists / ANY arrays`);
    }
    tuples = next;
  }
  const iv = scan.range === null ? null : interval(scan.range, params);
  if (iv === "empty") return [];
  const flags = [false, ...cols.map((c) => c.desc)];
  const rangeDesc = cols[scan.eq.length]?.desc === true;
  return tuples.map((t) => {
    const prefix: KeyPart[] = [scan.index.id, ...t];
    if (iv === null) {
      const start = encodeKey(prefix, flags);
      return { start, end: prefixEnd(start), points: t };
    }
    return { ...keyRange(prefix, flags, rangeDesc, iv), points: t };
  });
}
