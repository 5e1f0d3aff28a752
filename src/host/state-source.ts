// A worker's read-only view of the store: entity state on a cache miss. The
// main thread's committer is the only writer; lmdb shares one environment
// between the threads of a process.
import { openLmdbStore } from "../storage/lmdb-store.js";
import type { StateSource } from "./entity-runner.js";

export interface ClosableStateSource extends StateSource {
  close(): void;
}

export function openStateSource(dataDir: string): ClosableStateSource {
  const store = openLmdbStore({ path: dataDir, readOnly: true });
  return {
    getState: (component, id) => store.getState(component, id),
    close: () => { void store.close(); },
  };
}
