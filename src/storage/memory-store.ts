// An in-memory Store for tests of upper layers: same contract as LmdbStore
// (test/storage/store.contract.ts), nothing on disk. Values are deep-copied
// with structuredClone on the way in and out, like a serialization would.
import { StorageError, isDiskFullError } from "./errors.js";
import { decodeJournalKey, journalKey, stateKey } from "./layout.js";
import type {
  CommitTxn,
  DbName,
  Durability,
  Entry,
  FaultInjection,
  JournalEntry,
  JournalRecord,
  RangeOptions,
  ReadTxn,
  Store,
  StoredState,
  TailHandle,
  TailListener,
} from "./store.js";
import { entityHistory } from "./history.js";
import { JournalTail } from "./tail.js";

/** One ordered table: a sorted array of keys plus a map for point lookups. */
class Table {
  readonly #keys: Buffer[] = [];
  readonly #values = new Map<string, unknown>();

  get(key: Buffer): unknown {
    return this.#values.get(key.toString("latin1"));
  }

  has(key: Buffer): boolean {
    return this.#values.has(key.toString("latin1"));
  }

  set(key: Buffer, value: unknown): void {
    const k = key.toString("latin1");
    if (!this.#values.has(k)) this.#keys.splice(this.#lowerBound(key), 0, Buffer.from(key));
    this.#values.set(k, value);
  }

  delete(key: Buffer): void {
    const k = key.toString("latin1");
    if (!this.#values.delete(k)) return;
    this.#keys.splice(this.#lowerBound(key), 1);
  }

  get size(): number {
    return this.#keys.length;
  }

  /** First index whose key is >= key. */
  #lowerBound(key: Buffer): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.#keys[mid] as Buffer, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // Lazy, and robust to writes during iteration (a hook may read a range and
  // write): each step re-finds its position from the last key it returned.
  *range(options: RangeOptions): Generator<Entry> {
    const { start, end, reverse } = options;
    const limit = options.limit ?? Infinity;
    let n = 0;
    if (!reverse) {
      let i = start ? this.#lowerBound(start) : 0;
      while (n < limit) {
        const key = this.#keys[i];
        if (key === undefined || (end && Buffer.compare(key, end) >= 0)) return;
        n++;
        yield { key: Buffer.from(key), value: structuredClone(this.#values.get(key.toString("latin1"))) };
        i = this.#lowerBound(key);
        if (this.#keys[i] !== undefined && Buffer.compare(this.#keys[i] as Buffer, key) === 0) i++;
      }
    } else {
      let i = (end ? this.#lowerBound(end) : this.#keys.length) - 1;
      while (n < limit && i >= 0) {
        const key = this.#keys[i];
        if (key === undefined || (start && Buffer.compare(key, start) < 0)) return;
        n++;
        yield { key: Buffer.from(key), value: structuredClone(this.#values.get(key.toString("latin1"))) };
        i = this.#lowerBound(key) - 1;
      }
    }
  }
}

interface Undo {
  readonly table: Table;
  readonly key: Buffer;
  readonly existed: boolean;
  readonly old: unknown;
}

export class MemoryStore implements Store, FaultInjection {
  readonly durability: Durability;
  readonly #tables: Record<DbName, Table> = {
    state: new Table(), journal: new Table(), entityLog: new Table(), rows: new Table(),
    index: new Table(), offsets: new Table(), timers: new Table(), meta: new Table(),
  };
  readonly #tails = new Set<JournalTail>();
  readonly #readTxn: ReadTxn;
  #closed = false;
  #pendingWrites: Promise<unknown> = Promise.resolve();
  // Undo log of the running write transaction; savepoint = an index into it.
  #undo: Undo[] = [];
  #savepoint: number | undefined;
  // Id of the next write transaction (CommitTxn.writeTxnId).
  #txnId = 1;
  #journalTouched = false;
  #injectedCommitError: Error | undefined;

  constructor(options: { durability?: Durability } = {}) {
    this.durability = options.durability ?? "none";
    const tables = this.#tables;
    this.#readTxn = {
      get: (db, key) => structuredClone(tables[db].get(key)),
      range: (db, options) => tables[db].range(options),
    };
  }

  read<T>(fn: (txn: ReadTxn) => T): T {
    this.#checkOpen();
    return fn(this.#readTxn);
  }

  getState(component: string, id: string): StoredState | undefined {
    this.#checkOpen();
    return structuredClone(this.#tables.state.get(stateKey(component, id))) as StoredState | undefined;
  }

  journalHead(): number {
    this.#checkOpen();
    for (const { key } of this.#tables.journal.range({ reverse: true, limit: 1 })) return decodeJournalKey(key);
    return 0;
  }

  readJournal(fromGlobalSeq: number, limit: number): JournalEntry[] {
    this.#checkOpen();
    const out: JournalEntry[] = [];
    if (limit <= 0) return out;
    for (const { key, value } of this.#tables.journal.range({ start: journalKey(Math.max(0, fromGlobalSeq)), limit })) {
      out.push({ ...(value as JournalRecord), globalSeq: decodeJournalKey(key) });
    }
    return out;
  }

  replayEntity(component: string, id: string, fromEntitySeq = 0, limit = Number.MAX_SAFE_INTEGER): JournalEntry[] {
    this.#checkOpen();
    return this.read((txn) => entityHistory(txn, component, id, fromEntitySeq, limit));
  }

  tail(fromGlobalSeq: number, listener: TailListener): TailHandle {
    this.#checkOpen();
    const tail = new JournalTail(fromGlobalSeq, listener, (from, limit) => this.readJournal(from, limit), (t) => this.#tails.delete(t));
    this.#tails.add(tail);
    return tail;
  }

  write<T>(fn: (txn: CommitTxn) => T): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    // Transactions run one after another, each in a later turn (like lmdb-js).
    const run = this.#pendingWrites.then(
      () => new Promise<T>((resolve, reject) => setImmediate(() => this.#run(fn, resolve, reject))),
    );
    this.#pendingWrites = run.catch(() => undefined);
    return run;
  }

  failNextCommit(error: Error): void {
    this.#injectedCommitError = error;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#pendingWrites;
    this.#closed = true;
    for (const t of this.#tails) t.stop();
  }

  #run<T>(fn: (txn: CommitTxn) => T, resolve: (v: T) => void, reject: (e: unknown) => void): void {
    this.#undo = [];
    this.#savepoint = undefined;
    this.#journalTouched = false;
    let result: T;
    let changed: boolean;
    try {
      result = fn(this.#commitTxn());
      changed = this.#undo.length > 0;
      const injected = this.#injectedCommitError;
      if (injected) {
        this.#injectedCommitError = undefined;
        this.#undoTo(0);
        const code = isDiskFullError(injected) ? "ERR_DISK_FULL" : "ERR_COMMIT_FAILED";
        reject(new StorageError(code, `commit failed (injected): ${injected.message}; nothing of this batch was written`, { cause: injected }));
        return;
      }
    } catch (error) {
      this.#undoTo(0);
      reject(error);
      return;
    } finally {
      this.#undo = [];
      this.#savepoint = undefined;
    }
    if (changed) this.#txnId++; // as LMDB: only a committed transaction that changed something uses an id
    if (this.#journalTouched) for (const t of this.#tails) t.notify();
    resolve(result);
  }

  #undoTo(mark: number): void {
    for (let i = this.#undo.length - 1; i >= mark; i--) {
      const u = this.#undo[i] as Undo;
      if (u.existed) u.table.set(u.key, u.old);
      else u.table.delete(u.key);
    }
    this.#undo.length = mark;
  }

  #commitTxn(): CommitTxn {
    const tables = this.#tables;
    const record = (table: Table, key: Buffer): void => {
      this.#undo.push({ table, key: Buffer.from(key), existed: table.has(key), old: table.get(key) });
    };
    return {
      get: (db, key) => structuredClone(tables[db].get(key)),
      range: (db, options) => tables[db].range(options),
      put: (db, key, value) => {
        const t = tables[db];
        const copy = structuredClone(value); // throws before any change for uncloneable values
        record(t, key);
        if (db === "journal") this.#journalTouched = true;
        t.set(key, copy);
      },
      remove: (db, key) => {
        const t = tables[db];
        record(t, key);
        t.delete(key);
      },
      putKnown: (db, key, value, previous) => {
        const t = tables[db];
        const copy = structuredClone(value);
        this.#undo.push({ table: t, key: Buffer.from(key), existed: previous !== undefined, old: structuredClone(previous) });
        if (db === "journal") this.#journalTouched = true;
        t.set(key, copy);
      },
      savepoint: () => {
        this.#savepoint = this.#undo.length;
      },
      rollbackToSavepoint: () => {
        if (this.#savepoint !== undefined) this.#undoTo(this.#savepoint);
        this.#savepoint = undefined;
      },
      releaseSavepoint: () => {
        this.#savepoint = undefined;
      },
      writeTxnId: () => this.#txnId,
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError();
  }
}

function closedError(): StorageError {
  return new StorageError("ERR_STORE_CLOSED", "the memory store is closed; this is a shutdown race or a bug in the caller");
}
