// A subscription's result on the client: rows in the query's order, kept in
// sync by applying the server's snapshot and change messages.
//
// A change message lists removes first, then adds and updates by ascending
// final index. Applying it: take out every removed and updated key, then
// insert each add/update at its index, in order. Rows the message does not
// mention keep their relative order (their sort keys did not change), so
// after the inserts the list equals the server's.
import type { ChangeOp, Row, SnapshotRow } from "./protocol.js";

/** The local result no longer matches the server's stream (a bug or a lost message): resubscribe. */
export class OutOfSyncError extends Error {
  override readonly name = "OutOfSyncError";
  readonly code = "ERR_OUT_OF_SYNC";
}

export class ResultSet<R extends Row = Row> {
  #entries: { key: string; row: R }[] = [];

  /** The rows, in the query's order. */
  get rows(): R[] {
    return this.#entries.map((e) => e.row);
  }

  /** Keys (entity ids) and rows, in the query's order. */
  get entries(): readonly { readonly key: string; readonly row: R }[] {
    return this.#entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  reset(rows: readonly SnapshotRow[]): void {
    this.#entries = rows.map((r) => ({ key: r.key, row: r.row as R }));
  }

  /** Applies one change message's ops. Throws OutOfSyncError if they do not fit the current rows. */
  apply(ops: readonly ChangeOp[]): void {
    const present = new Set<string>();
    for (const e of this.#entries) present.add(e.key);
    const out = new Set<string>();
    for (const op of ops) {
      const had = present.has(op.key);
      if (op.op === "add" ? had : !had) throw new OutOfSyncError(`change '${op.op}' of key ${JSON.stringify(op.key)} does not fit the current result`);
      if (out.has(op.key)) throw new OutOfSyncError(`key ${JSON.stringify(op.key)} appears twice in one change`);
      out.add(op.key);
    }
    const kept = out.size === 0 ? this.#entries : this.#entries.filter((e) => !out.has(e.key));
    let last = -1;
    for (const op of ops) {
      if (op.op === "remove") continue;
      if (op.index <= last || op.index > kept.length) throw new OutOfSyncError(`change '${op.op}' of key ${JSON.stringify(op.key)} has index ${op.index}, out of order or past the end (${kept.length})`);
      last = op.index;
      kept.splice(op.index, 0, { key: op.key, row: op.row as R });
    }
    this.#entries = kept;
  }
}
