// A worker's read-only view of the store: entity state on a cache miss. The
// main thread's committer is the only writer; lmdb shares one environment
// between the threads of a process.
import { rowKey } from "../query/exec/row-source.js";
import { openLmdbStore } from "../storage/lmdb-store.js";
import type { StateSource } from "./entity-runner.js";
import type { QuerySource } from "./worker-queries.js";

export interface ClosableStateSource extends StateSource, QuerySource {
  close(): void;
}

export function openStateSource(dataDir: string): ClosableStateSource {
  const store = openLmdbStore({ path: dataDir, readOnly: true });
  return {
    getState: (component, id) => store.getState(component, id),
    getRow: (table, pk) => store.read((txn) => txn.get("rows", rowKey(table, pk))) as Record<string, unknown> | undefined,
    readFresh: (fn) => store.readFresh(fn),
    close: () => { void store.close(); },
  };
}
