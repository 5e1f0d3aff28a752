// How stored row values behave in SQL. Rows are plain data; a field read by a
// column path becomes one of:
//   null    - null, undefined (missing field), NaN, an invalid Date
//   boolean, number (-0 read as 0; bigint converted with Number()), string
//   a Date  - its ISO-8601 string (so it compares with ISO string params)
//   COMPLEX - an object or array: only usable with = ANY(column) (arrays)
//             and IS [NOT] NULL (it is not null); any comparison with it is
//             NULL, and it sorts and is indexed like NULL.
// Comparisons are strict: values of different types (1 vs '1', TRUE vs 1)
// compare as NULL (unknown), as in a typed database; the order used for
// sorting and keys is the key codec's: null < false < true < numbers <
// strings (UTF-8 byte order).
import { compareKeyParts, compareStringsUtf8, truncateUtf8 } from "../../storage/key-codec.js";
import type { KeyPart } from "../../storage/store.js";
import { INDEX_STRING_BYTES_MAX } from "../limits.js";

// ES2024 string methods (Node 20 has them; tsconfig's lib is ES2022).
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

export type Scalar = null | boolean | number | string;
export const COMPLEX: unique symbol = Symbol("complex");
export type SqlValue = Scalar | typeof COMPLEX;

/** The raw value at `path` in `row` (undefined when any step is missing). */
export function readPath(row: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let v: unknown = row;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export function toSqlValue(v: unknown): SqlValue {
  switch (typeof v) {
    case "undefined":
      return null;
    case "boolean":
    case "string":
      return v;
    case "number":
      return Number.isNaN(v) ? null : v === 0 ? 0 : v;
    case "bigint":
      return Number(v);
    case "object":
      if (v === null) return null;
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
      return COMPLEX;
    default:
      return COMPLEX;
  }
}

/** -1/0/1, or null when SQL says the comparison is unknown (NULL, COMPLEX or different types). */
export function compareSql(a: SqlValue, b: SqlValue): number | null {
  if (a === null || b === null || a === COMPLEX || b === COMPLEX) return null;
  const ta = typeof a;
  if (ta !== typeof b) return null;
  if (ta === "string") return Math.sign(compareStringsUtf8(a as string, b as string));
  if (ta === "number") return a < b ? -1 : a > b ? 1 : 0;
  return a === b ? 0 : a === false ? -1 : 1;
}

/** The key part a value is indexed and sorted by (see INDEX_STRING_BYTES_MAX for long strings). */
export function toKeyPart(v: unknown): KeyPart {
  const s = toSqlValue(v);
  if (s === COMPLEX) return null;
  if (typeof s === "string") {
    const w = s as unknown as WellFormed;
    const wf = w.isWellFormed() ? s : w.toWellFormed();
    return truncateUtf8(wf, INDEX_STRING_BYTES_MAX);
  }
  return s;
}

/** Whether toKeyPart(v) lost information (a truncated or repaired string). */
export function keyPartIsLossy(v: Scalar, part: KeyPart): boolean {
  return typeof v === "string" && v !== part;
}

/** Sort comparison of two rows' values at one term: key order, flipped for DESC. */
export function compareForSort(a: KeyPart, b: KeyPart, desc: boolean): number {
  const c = compareKeyParts(a, b);
  return desc ? -c : c;
}
