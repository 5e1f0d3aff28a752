// A LiveSource over an in-memory transaction: commits apply view rows, then
// hand their deltas to the live query manager, as the runtime does after a
// durable commit. reload() swaps compiled views like a hot reload.
import { compileView } from "../../../src/query/compile-view.js";
import type { CompiledView, QueryDefinition, Row, RowDelta } from "../../../src/query/types.js";
import type { CommitListener, LiveSource } from "../../../src/live/source.js";
import type { ReadTxn } from "../../../src/storage/store.js";
import { MemoryTxn } from "../../query/helpers/memory-txn.js";

export interface ViewSpec {
  readonly name: string;
  readonly table: string;
  readonly queries: Record<string, string | QueryDefinition>;
}

export class FakeSource implements LiveSource {
  readonly txn = new MemoryTxn();
  #views = new Map<string, CompiledView>();
  readonly #listeners: CommitListener[] = [];
  readonly #reloads: (() => void)[] = [];
  /** Tables being "built": live results wait for them. */
  readonly buildingTables = new Set<string>();
  /** Rows written, by table and pk (the model). */
  readonly model = new Map<string, Map<string, Row>>();

  constructor(views: readonly ViewSpec[]) {
    this.#compile(views);
  }

  #compile(views: readonly ViewSpec[]): void {
    this.#views = new Map(views.map((v) => [v.name, compileView({
      name: v.name, table: v.table,
      queries: Object.fromEntries(Object.entries(v.queries).map(([k, q]) => [k, typeof q === "string" ? { sql: q } : q])),
    })]));
  }

  onCommit(listener: CommitListener): () => void {
    this.#listeners.push(listener);
    return () => this.#listeners.splice(this.#listeners.indexOf(listener), 1);
  }

  view(name: string): CompiledView | undefined {
    return this.#views.get(name);
  }

  read<T>(fn: (txn: ReadTxn) => T): T {
    return fn(this.txn);
  }

  onRoutesChanged(listener: () => void): void {
    this.#reloads.push(listener);
  }

  building(table: string): boolean {
    return this.buildingTables.has(table);
  }

  /** Applies row writes in one "commit" (null deletes) and notifies, like the committer: prepare, then settle as durable. */
  commit(writes: readonly { view: string; pk: string; row: Row | null }[]): RowDelta[] {
    const c = this.begin(writes);
    c.settle(true);
    return c.deltas;
  }

  /**
   * The first half of a commit: the listeners' prepare runs with the writes
   * visible to its txn; afterwards, until settle, read() sees the store
   * without them (as LMDB readers do while the commit syncs). settle(true)
   * makes them visible, settle(false) drops them (a failed commit).
   */
  begin(writes: readonly { view: string; pk: string; row: Row | null }[]): { deltas: RowDelta[]; settle(durable: boolean, visible?: () => void): void } {
    const deltas: RowDelta[] = [];
    for (const w of writes) {
      const view = this.#views.get(w.view);
      if (view === undefined) throw new Error(`no view ${w.view}`);
      deltas.push(view.applyRowChange(this.txn, w.pk, w.row));
    }
    const notify = deltas.length > 0;
    if (notify) for (const l of this.#listeners) l.prepare(deltas, this.txn);
    for (let i = writes.length - 1; i >= 0; i--) {
      const w = writes[i] as (typeof writes)[number];
      (this.#views.get(w.view) as CompiledView).applyRowChange(this.txn, w.pk, (deltas[i] as RowDelta).old);
    }
    return {
      deltas,
      // `visible` runs once a durable commit can be read and before the
      // listeners hear of it (another thread read the store in between).
      settle: (durable, visible) => {
        if (durable) {
          for (const w of writes) {
            const view = this.#views.get(w.view) as CompiledView;
            view.applyRowChange(this.txn, w.pk, w.row);
            let rows = this.model.get(view.table);
            if (rows === undefined) this.model.set(view.table, (rows = new Map()));
            if (w.row === null) rows.delete(w.pk);
            else rows.set(w.pk, w.row);
          }
          visible?.();
        }
        if (notify) for (const l of this.#listeners) l.settle(durable);
      },
    };
  }

  /** A hot reload: new compiled views (same tables and indexes), then the reload listeners. */
  reload(views: readonly ViewSpec[]): void {
    this.#compile(views);
    for (const l of this.#reloads) l();
  }

  /** The one-shot answer. */
  query(view: string, query: string, params: Record<string, unknown>): Row[] {
    const q = this.#views.get(view)?.queries[query];
    if (q === undefined) throw new Error(`no query ${view}.${query}`);
    return [...q.execute(this.txn, params)];
  }
}
