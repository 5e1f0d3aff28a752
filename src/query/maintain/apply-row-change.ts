// Applies one row change to `rows` and `index` inside the caller's write
// transaction: reads the old row, removes its index keys that the new row
// does not have, adds the new ones, writes or deletes the row.
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

export function applyRowChange(txn: WriteTxn, table: string, indexes: readonly IndexDefinition[], pk: string, row: Row | null): RowDelta {
  const key = rowKey(table, pk);
  const old = (txn.get("rows", key) as Row | undefined) ?? null;
  const before = keySet(indexes, pk, old);
  const after = keySet(indexes, pk, row);
  for (const [k, buf] of before) if (!after.has(k)) txn.remove("index", buf);
  for (const [k, buf] of after) if (!before.has(k)) txn.put("index", buf, pk);
  if (row === null) {
    if (old !== null) txn.remove("rows", key);
  } else txn.put("rows", key, row);
  return Object.freeze({ table, pk, old, new: row });
}
