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

export type Durability = "full" | "batched" | "none";
