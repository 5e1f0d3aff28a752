// What live queries need from the host. The Runtime implements it; unit tests
// implement it over an in-memory store.
import type { ReadTxn } from "../storage/store.js";
import type { CompiledView, RowDelta } from "../query/types.js";

export interface LiveSource {
  /** Calls `listener` after each durable commit, in commit order, with the view rows it changed. */
  onRowChanges(listener: (deltas: readonly RowDelta[]) => void): () => void;
  /** The compiled view with this name, as of now (a hot reload replaces it). */
  view(name: string): CompiledView | undefined;
  /** Runs fn on one consistent snapshot (the latest commit). */
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
