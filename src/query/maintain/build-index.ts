// Builds an index from the rows already stored, in chunks of pk order, so a
// background job can add a new index while writes go on (each chunk in its own
// write transaction; rows written meanwhile are indexed by applyRowChange once
// the index is part of the view). The cursor to resume from is the last pk.
import { decodeKey, encodeKey, prefixEnd } from "../../storage/key-codec.js";
import type { WriteTxn } from "../../storage/store.js";
import type { IndexDefinition } from "../plan/plan-nodes.js";
import { indexKeys } from "./index-entries.js";

type Row = Readonly<Record<string, unknown>>;

export interface BuildProgress {
  /** Rows indexed by this call. */
  readonly rows: number;
  /** The pk to resume after, or null when the table is done. */
  readonly lastPk: string | null;
}

/** Indexes up to `rowsMax` rows with pk > afterPk (null: from the start). */
export function buildIndexChunk(txn: WriteTxn, index: IndexDefinition, afterPk: string | null, rowsMax: number): BuildProgress {
  const tablePrefix = encodeKey([index.table]);
  const start = afterPk === null ? tablePrefix : prefixEnd(encodeKey([index.table, afterPk]));
  let rows = 0;
  let last: string | null = null;
  for (const e of txn.range("rows", { start, end: prefixEnd(tablePrefix), limit: rowsMax + 1 })) {
    if (rows === rowsMax) return { rows, lastPk: last };
    // The pk is the key's second part: decode only the tail after the table prefix.
    const pk = pkOf(e.key, tablePrefix);
    for (const k of indexKeys(index, pk, e.value as Row)) txn.put("index", k, pk);
    last = pk;
    rows++;
  }
  return { rows, lastPk: null };
}

/** Removes every entry of an index (a dropped or redefined index), up to entriesMax per call; returns how many. */
export function clearIndexChunk(txn: WriteTxn, indexId: string, entriesMax: number): number {
  const prefix = encodeKey([indexId]);
  const keys: Buffer[] = [];
  for (const e of txn.range("index", { start: prefix, end: prefixEnd(prefix), limit: entriesMax })) keys.push(e.key);
  for (const k of keys) txn.remove("index", k);
  return keys.length;
}

function pkOf(key: Buffer, tablePrefix: Buffer): string {
  return decodeKey(key.subarray(tablePrefix.length))[0] as string;
}
