// What live queries need from the host. The Runtime implements it; unit tests
// implement it over an in-memory store.
import type { ReadTxn } from "../storage/store.js";
import type { CompiledView, RowDelta } from "../query/types.js";

/**
 * One commit seen twice, in commit order; at most one is between the two
 * calls at a time.
 */
export interface CommitListener {
  /**
   * Inside the commit's transaction, before it is durable: the view rows it
   * changed, and `txn`, whose reads see the commit (valid only during the call).
   */
  prepare(deltas: readonly RowDelta[], txn: ReadTxn): void;
  /** The prepared commit is durable (true), or failed and was rolled back (false). */
  settle(durable: boolean): void;
}

export interface LiveSource {
  /** Calls `listener` for each commit that changes view rows (see CommitListener). */
  onCommit(listener: CommitListener): () => void;
  /** The compiled view with this name, as of now (a hot reload replaces it). */
  view(name: string): CompiledView | undefined;
  /** Runs fn on one consistent snapshot (the latest durable commit). */
  read<T>(fn: (txn: ReadTxn) => T): T;
  /** Calls `listener` after a hot reload swapped in new compiled views. */
  onRoutesChanged(listener: () => void): void;
  /**
   * Whether the view's table is being (re)built from stored state: its rows
   * are incomplete and its writes do not all arrive as deltas. Live results
   * wait for the build (polled; see LiveQueries).
   */
  building(table: string): boolean;
}
