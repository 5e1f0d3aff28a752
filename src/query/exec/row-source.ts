// Reads rows: an index range yields its entries' pks (the entry value), each
// row fetched from `rows`; a table scan reads `rows` directly in pk order.
// Lazy: nothing is read until the consumer pulls.
import { decodeKey, encodeKey, encodeKeyTransient, prefixEnd } from "../../storage/key-codec.js";
import type { KeyPart, ReadTxn } from "../../storage/store.js";
import type { OrderKey } from "../plan/plan-nodes.js";
import { compareForSort, readPath, toKeyPart } from "../values/value.js";

export type Row = Readonly<Record<string, unknown>>;

export interface RowItem {
  readonly pk: string;
  readonly row: Row;
}

export function rowKey(table: string, pk: string): Buffer {
  return encodeKey([table, pk]);
}

export function* indexRange(txn: ReadTxn, table: string, start: Buffer, end: Buffer): Generator<RowItem> {
  if (Buffer.compare(start, end) >= 0) return;
  for (const e of txn.range("index", { start, end })) {
    const pk = e.value as string;
    // The key is used by this get only: the shared scratch encoding allocates nothing.
    const row = txn.get("rows", encodeKeyTransient([table, pk])) as Row | undefined;
    if (row === undefined) throw new Error(`query: index entry ${e.key.toString("hex")} points at missing row ${table}/${pk}`);
    yield { pk, row };
  }
}

export function* tableRows(txn: ReadTxn, table: string): Generator<RowItem> {
  const start = encodeKey([table]);
  for (const e of txn.range("rows", { start, end: prefixEnd(start) })) {
    yield { pk: decodeKey(e.key)[1] as string, row: e.value as Row };
  }
}

/** A row's values for each term of `order` (pk for the pk term), as key parts. */
export function sortKey(item: RowItem, order: readonly OrderKey[]): KeyPart[] {
  return order.map((o) => (o.path === null ? item.pk : toKeyPart(readPath(item.row, o.path))));
}

export function compareSortKeys(a: readonly KeyPart[], b: readonly KeyPart[], order: readonly OrderKey[]): number {
  for (let i = 0; i < order.length; i++) {
    const c = compareForSort(a[i] as KeyPart, b[i] as KeyPart, (order[i] as OrderKey).desc);
    if (c !== 0) return c;
  }
  return 0;
}
