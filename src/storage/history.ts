// An entity's history: its journal records, oldest first, found without an
// index of their own. Every journal record of a write carries `prev`, the
// global sequence of the first record of the entity's previous write (0: none),
// and the state record carries `last`, that of its latest write — a chain from
// newest to oldest that the committer extends with the two puts it makes
// anyway (README.md "Entity history"). Writes stored by format 1 have no
// pointers; the `entityLog` index they were filed in still finds them.
import { decodeKey } from "./key-codec.js";
import { decodeJournalKey, entityLogKey, entityLogRange, journalKey, stateKey } from "./layout.js";
import { StorageError } from "./errors.js";
import type { JournalEntry, JournalRecord, ReadTxn, StoredState } from "./store.js";

/**
 * The global sequence of the first journal record of the entity's latest
 * write, or 0 if it was never written: what the next write stores as `prev`.
 * A state stored by format 1 has no `last`; its entityLog entry says it.
 */
export function latestWrite(txn: ReadTxn, component: string, id: string, stored: StoredState | undefined): number {
  if (stored === undefined || stored.seq === 0) return 0;
  if (stored.last !== undefined) return stored.last;
  const g = txn.get("entityLog", entityLogKey(component, id, stored.seq));
  if (typeof g !== "number") throw corrupt(component, id, `its state is at write ${stored.seq}, which neither the state nor the entity log locates`);
  return g;
}

/** The entity's journal entries of writes with entitySeq >= fromEntitySeq, oldest first, at most `limit`. */
export function entityHistory(txn: ReadTxn, component: string, id: string, fromEntitySeq: number, limit: number): JournalEntry[] {
  const out: JournalEntry[] = [];
  if (limit <= 0) return out;
  const from = Math.max(1, fromEntitySeq);
  // Walk the chain back from the latest write: the first record of each
  // write, newest first, down to `from` or to a record stored without `prev`.
  const chained: number[] = [];
  let oldestChained = Number.POSITIVE_INFINITY;
  const stored = txn.get("state", stateKey(component, id)) as StoredState | undefined;
  let g = stored?.last;
  let expected = stored?.seq ?? 0;
  while (g !== undefined && g > 0 && expected >= from) {
    const rec = txn.get("journal", journalKey(g)) as JournalRecord | undefined;
    if (rec === undefined || rec.component !== component || rec.id !== id || rec.entitySeq !== expected) {
      throw corrupt(component, id, `write ${expected} should start at journal record ${g}, which ${rec === undefined ? "does not exist" : `belongs to ${rec.component}/${rec.id} write ${rec.entitySeq}`}`);
    }
    chained.push(g);
    oldestChained = expected;
    g = rec.prev;
    expected--;
  }
  // `expected` is now the newest write the chain did not give. If one is
  // still wanted, the chain ended at a record (or state) format 1 wrote,
  // and that write and the older ones are in the entity log.
  if (g === 0 && expected >= from) throw corrupt(component, id, `write ${expected + 1} is marked as its first`);
  if (stored === undefined || expected >= from) {
    for (const { key, value } of txn.range("entityLog", entityLogRange(component, id, from))) {
      const entitySeq = decodeKey(key)[2] as number;
      if (entitySeq >= oldestChained) break;
      if (pushWrite(txn, out, value as number, component, id, entitySeq, limit)) return out;
    }
  }
  for (let i = chained.length - 1; i >= 0; i--) {
    const first = chained[i] as number;
    if (pushWrite(txn, out, first, component, id, oldestChained + (chained.length - 1 - i), limit)) return out;
  }
  return out;
}

/** Appends the contiguous records of one write; true once `limit` is reached. */
function pushWrite(txn: ReadTxn, out: JournalEntry[], first: number, component: string, id: string, entitySeq: number, limit: number): boolean {
  for (const { key, value } of txn.range("journal", { start: journalKey(first) })) {
    const r = value as JournalRecord;
    if (r.entitySeq !== entitySeq || r.id !== id || r.component !== component) break;
    out.push({ ...r, globalSeq: decodeJournalKey(key) });
    if (out.length >= limit) return true;
  }
  return false;
}

function corrupt(component: string, id: string, detail: string): StorageError {
  return new StorageError(
    "ERR_CORRUPT",
    `the history of ${component}/${id} is inconsistent: ${detail}; the data folder is damaged — restore it from a backup (calyx restore) or an export`,
  );
}
