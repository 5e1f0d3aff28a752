// Applies one row change to `rows` and `index` inside the caller's write
// transaction: reads the old row, removes its index keys that the new row
// does not have, adds the new ones, writes or deletes the row — nothing when
// the new row equals the old one.
import type { WriteTxn } from "../../storage/store.js";
import { rowKey } from "../exec/row-source.js";
import type { IndexDefinition } from "../plan/plan-nodes.js";
import type { Row, RowDelta } from "../types.js";
import { indexKeys } from "./index-entries.js";

function keySet(indexes: readonly IndexDefinition[], pk: string, row: Row | null): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (row === null) return out;
  for (const ix of indexes) for (const k of indexKeys(ix, pk, row)) out.set(k.toString("latin1"), k);
  return out;
}

/**
 * Whether two stored values are the same data: primitives equal, arrays and
 * plain objects alike element by element, object keys in the same order.
 * Anything else (a Date, a Map, a typed array) counts as different.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i] || !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function applyRowChange(txn: WriteTxn, table: string, indexes: readonly IndexDefinition[], pk: string, row: Row | null): RowDelta {
  const key = rowKey(table, pk);
  const old = (txn.get("rows", key) as Row | undefined) ?? null;
  // A write that leaves the view's row as it was (it changed columns the view
  // does not select) writes nothing here: rewriting the same row would still
  // copy its page and the pages above it at the commit.
  if (old !== null && row !== null && sameValue(old, row)) return Object.freeze({ table, pk, old, new: row });
  const before = keySet(indexes, pk, old);
  const after = keySet(indexes, pk, row);
  for (const [k, buf] of before) if (!after.has(k)) txn.remove("index", buf);
  for (const [k, buf] of after) if (!before.has(k)) txn.put("index", buf, pk);
  if (row === null) {
    if (old !== null) txn.remove("rows", key);
  } else txn.put("rows", key, row);
  return Object.freeze({ table, pk, old, new: row });
}
