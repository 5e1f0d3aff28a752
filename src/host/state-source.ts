// A worker's read-only view of the store: entity state on a cache miss. The
// main thread's committer is the only writer; lmdb shares one environment
// between the threads of a process.
import { rowKey } from "../query/exec/row-source.js";
import { openLmdbStore } from "../storage/lmdb-store.js";
import type { StateSource } from "./entity-runner.js";
import type { QuerySource } from "./worker-queries.js";

export interface ClosableStateSource extends StateSource, QuerySource {
  /**
   * A message from the main thread arrived: the next read sees every commit
   * made before it was sent. lmdb-js keeps a thread's read snapshot until a
   * timer resets it, and a worker handling messages back to back could read
   * an entity from before a commit that the main thread waited for before
   * sending this one — an entity that just moved to this worker, or one
   * whose cached state was dropped (test/host/runtime-gate.test.ts).
   */
  freshen(): void;
  close(): void;
}

export function openStateSource(dataDir: string): ClosableStateSource {
  const store = openLmdbStore({ path: dataDir, readOnly: true });
  // Whether the snapshot may predate the last message; renewed by the first read after it only.
  let stale = true;
  const fresh = (): void => {
    if (!stale) return;
    stale = false;
    store.dropSnapshot();
  };
  return {
    getState: (component, id) => { fresh(); return store.getState(component, id); },
    getRow: (table, pk) => { fresh(); return store.read((txn) => txn.get("rows", rowKey(table, pk))) as Record<string, unknown> | undefined; },
    freshen: () => { stale = true; },
    readFresh: (fn) => store.readFresh(fn),
    close: () => { void store.close(); },
  };
}
