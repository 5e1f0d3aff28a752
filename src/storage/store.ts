// The storage seam. Implemented by lmdb-store.ts (on disk) and memory-store.ts
// (unit tests of upper layers); both run through test/storage/store.contract.ts.
//
// Keys are opaque, order-preserving byte strings made by key-codec.ts; values
// are any structured-clonable data (msgpack on disk). Upper layers (query, host)
// own the meaning of the keys they put in `rows`, `index`, `offsets`, `timers`.

/** One component of a compound key. Ordered: null < false < true < numbers < strings. */
export type KeyPart = null | boolean | number | string;
export type Key = readonly KeyPart[];

/** The named databases of one environment (see src/storage/README.md). */
export type DbName = "state" | "journal" | "entityLog" | "rows" | "index" | "offsets" | "timers" | "meta";

export interface RangeOptions {
  /** Inclusive lower bound (in key order, whatever `reverse` says). */
  readonly start?: Buffer;
  /** Exclusive upper bound. */
  readonly end?: Buffer;
  /** Iterate from the end of the range towards its start. */
  readonly reverse?: boolean;
  readonly limit?: number;
}

export interface Entry {
  readonly key: Buffer;
  readonly value: unknown;
}

/** A consistent snapshot. Iterables are lazy: rows are read as they are consumed. */
export interface ReadTxn {
  get(db: DbName, key: Buffer): unknown;
  range(db: DbName, options: RangeOptions): Iterable<Entry>;
}

/** Writes see their own earlier writes in the same transaction. */
export interface WriteTxn extends ReadTxn {
  put(db: DbName, key: Buffer, value: unknown): void;
  remove(db: DbName, key: Buffer): void;
}

/** The value stored under state/[component, id]. */
export interface StoredState {
  /** Entity sequence number: 1 after the first write, +1 per write. */
  readonly seq: number;
  readonly state: unknown;
  /**
   * Set when the entity was deleted. The row is kept as a tombstone so that the
   * sequence (and the entity log) continues: the next write must carry
   * baseSeq = seq, and `state` is undefined (start from the initial state).
   */
  readonly deleted?: true;
  /**
   * Global sequence of the first journal record of the entity's latest write:
   * the head of its history chain (history.ts). Absent for states stored by
   * format 1, whose history the entityLog index holds.
   */
  readonly last?: number;
}

/** One journal record (journal/[globalSeq]). */
export interface JournalRecord {
  readonly component: string;
  readonly id: string;
  readonly entitySeq: number;
  /** Event type, or "state" / "delete" for key-value entities' changes. */
  readonly type: string;
  readonly payload: unknown;
  /** Milliseconds since the epoch, when the command was committed. */
  readonly time: number;
  /** Partition of the entity (see partitionOf); 0 while there is one. */
  readonly partition: number;
  /**
   * Global sequence of the first record of the entity's previous write (0: this
   * is its first), on every record of a write. Absent on records stored by
   * format 1.
   */
  readonly prev?: number;
}

/** A change to one view row, applied in the same transaction as the entity write. */
export interface ViewRowChange {
  readonly table: string;
  readonly pk: string;
  /** The new row, or null to delete it. */
  readonly row: Readonly<Record<string, unknown>> | null;
}

/** Everything one command changes, committed atomically with other commands' writes. */
export interface EntityWrite {
  readonly component: string;
  readonly id: string;
  /**
   * Entity sequence the command ran on (0 for a new entity). The committer
   * refuses the write unless the stored sequence equals it: the single-writer guard.
   */
  readonly baseSeq: number;
  /** New state; absent = unchanged; `deleted` removes the entity. */
  readonly state?: { readonly value: unknown } | { readonly deleted: true };
  /** Journal entries to append, in order. */
  readonly events: readonly { readonly type: string; readonly payload: unknown }[];
  /** View rows fed by this entity (keyed by its id), maintained by a CommitHook. */
  readonly views?: readonly ViewRowChange[];
}

export interface CommitResult {
  /** Entity sequence after this write. */
  readonly seq: number;
  /** Global journal sequence of the last record this write appended (or the current head). */
  readonly globalSeq: number;
}

/** Lets an upper layer add writes to the transaction that commits an EntityWrite. */
export interface CommitHook {
  /** Runs inside the write transaction; throwing fails this write only. Returns data for onDurable. */
  apply(txn: WriteTxn, write: EntityWrite): unknown;
}

/** Called, in commit order, after a batch is durable. */
export type DurableListener = (batch: readonly { write: EntityWrite; result: CommitResult; hookResult: unknown }[]) => void;

/**
 * Sees each batch twice, in commit order: `applied` inside its write
 * transaction, before it is durable (the successful writes, and `txn`, whose
 * reads see them; valid only during the call), then `settled` once the batch
 * is durable (true) or failed and was rolled back (false). At most one batch
 * is between the two calls at a time, even though the next transaction may
 * start before this thread hears that the one before committed (the
 * committer then settles that one first; README.md "Group commit"). Lets work that depends on the commit
 * (live query fan-out) be done while the disk syncs, and released after.
 */
export interface BatchObserver {
  applied(batch: readonly { write: EntityWrite; result: CommitResult; hookResult: unknown }[], txn: ReadTxn): void;
  settled(durable: boolean): void;
}

export type Durability = "full" | "batched" | "none";

/** A journal record with its position: journal/[globalSeq]. */
export interface JournalEntry extends JournalRecord {
  readonly globalSeq: number;
}

/** Receives journal entries in globalSeq order, in chunks. Returning a promise pauses the tail until it settles. */
export type TailListener = (entries: readonly JournalEntry[]) => void | Promise<void>;

export interface TailHandle {
  /** Stops delivery; entries already handed to the listener stay delivered. */
  stop(): void;
  /** Resolves when the tail stops: on stop(), on store close, or rejected if the listener threw. */
  readonly done: Promise<void>;
}

/**
 * The write transaction the Committer works in. A savepoint (one level) marks
 * the start of one EntityWrite's changes so that they alone can be undone when
 * its hook throws; see README.md "Failure rules".
 */
export interface CommitTxn extends WriteTxn {
  /** Starts recording undo information for the following put/remove calls. */
  savepoint(): void;
  /** Undoes every put/remove since savepoint(), in reverse order, and stops recording. */
  rollbackToSavepoint(): void;
  /** Keeps the changes since savepoint() and stops recording. */
  releaseSavepoint(): void;
  /**
   * put() for a key whose current value the caller already knows (`previous`,
   * undefined = absent): inside a savepoint its undo is recorded from
   * `previous` instead of a lookup. Hot path of the committer.
   */
  putKnown(db: DbName, key: Buffer, value: unknown, previous: unknown): void;
  /**
   * The id of the write transaction this runs in. It grows by one with each
   * committed transaction that changed something, whichever process committed
   * it; a transaction that aborted or changed nothing uses no id. Every write()
   * that the store ran inside one transaction sees the same id.
   */
  writeTxnId(): number;
}

/**
 * One storage environment. Implemented by LmdbStore (on disk) and MemoryStore
 * (tests of upper layers); both pass test/storage/store.contract.ts.
 *
 * Reads are synchronous and see the latest committed (for durability "full":
 * durable) snapshot. There is one writer: the Committer, through write().
 */
export interface Store {
  readonly durability: Durability;
  /**
   * Runs fn on one consistent snapshot and returns its result. Lazy iterables
   * from txn.range must be consumed inside fn. Do not call from inside a hook
   * (use the hook's txn).
   */
  read<T>(fn: (txn: ReadTxn) => T): T;
  /** state/[component, id], or undefined. A tombstone has `deleted: true`. */
  getState(component: string, id: string): StoredState | undefined;
  /** The last global journal sequence, 0 when the journal is empty. O(log n). */
  journalHead(): number;
  /** Up to `limit` journal entries with globalSeq >= fromGlobalSeq, in order. */
  readJournal(fromGlobalSeq: number, limit: number): JournalEntry[];
  /** Up to `limit` journal entries of one entity with entitySeq >= fromEntitySeq, in order. */
  replayEntity(component: string, id: string, fromEntitySeq?: number, limit?: number): JournalEntry[];
  /**
   * Delivers every journal entry with globalSeq >= fromGlobalSeq, then new ones
   * as their commits complete, in order, in chunks, asynchronously: a slow
   * listener delays only itself, never the committer (it reads the journal
   * from disk at its own pace, so nothing is buffered for it).
   */
  tail(fromGlobalSeq: number, listener: TailListener): TailHandle;
  /**
   * Runs fn in one write transaction and commits it. Resolves with fn's result
   * once the commit is durable per `durability`; rejects with fn's error
   * (nothing written), or a StorageError (ERR_DISK_FULL, ERR_COMMIT_FAILED,
   * ERR_STORE_CLOSED) if the commit failed (nothing written).
   */
  write<T>(fn: (txn: CommitTxn) => T): Promise<T>;
  /** Waits for pending writes, stops tails, releases the environment. Idempotent. */
  close(): Promise<void>;
}

/** Test-only fault injection, implemented by both stores. */
export interface FaultInjection {
  /** The next write() runs fn, then fails as if its commit had failed with `error` (nothing is written). */
  failNextCommit(error: Error): void;
}
