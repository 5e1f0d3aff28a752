// Plugs compiled views into the storage committer: a CommitHook that applies
// an EntityWrite's view row changes (rows + indexes) in the same transaction
// as the entity write, and returns the RowDeltas for live queries.
import type { CommitHook, EntityWrite, WriteTxn } from "../../storage/store.js";
import type { CompiledView, RowDelta } from "../types.js";

export class ViewMaintainer implements CommitHook {
  private readonly byTable = new Map<string, CompiledView>();

  constructor(views: readonly CompiledView[]) {
    for (const v of views) {
      if (this.byTable.has(v.table)) throw new Error(`views "${this.byTable.get(v.table)?.name}" and "${v.name}" both use table "${v.table}"`);
      this.byTable.set(v.table, v);
    }
  }

  view(table: string): CompiledView | undefined {
    return this.byTable.get(table);
  }

  /** Runs inside the committing transaction; the result reaches DurableListener as hookResult. */
  apply(txn: WriteTxn, write: EntityWrite): RowDelta[] {
    const deltas: RowDelta[] = [];
    for (const change of write.views ?? []) {
      const view = this.byTable.get(change.table);
      // A change for a table no compiled view owns is a host bug: fail this write loudly.
      if (view === undefined) throw new Error(`view row change for unknown table "${change.table}" (write ${write.component}/${write.id})`);
      deltas.push(view.applyRowChange(txn, change.pk, change.row));
    }
    return deltas;
  }
}
