// The on-disk Store: one LMDB environment (lmdb-js) in a data folder, one named
// database per DbName, binary keys from key-codec.ts, msgpack values.
// Layout and durability rules: README.md.
import { mkdirSync, statfsSync } from "node:fs";
import { asBinary, open, type Database, type RootDatabase, type Transaction as LmdbTransaction } from "lmdb";
import { StorageError, isDiskFullError } from "./errors.js";
import { checkDataFileHeader, checkFormatVersion, upgradeFormatVersion, writeFormatVersion } from "./format-check.js";
import {
  DB_NAMES,
  FORMAT_VERSION,
  decodeJournalKey,
  journalKey,
  stateKeyTransient,
} from "./layout.js";
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

export type { Store } from "./store.js";

export interface LmdbStoreOptions {
  /** The data folder (created if missing). */
  readonly path: string;
  /** Chooses LMDB's sync flags; fixed for the life of the store. Default "full". */
  readonly durability?: Durability;
  /** For durability "batched": the longest time between two fsyncs. Default 100 ms. */
  readonly batchedFlushMs?: number;
  /** Open an existing store without writing (e.g. from a worker thread). */
  readonly readOnly?: boolean;
}

export const BATCHED_FLUSH_MS_DEFAULT = 100;

type Db = Database<unknown, Buffer>;

/** lmdb-js runtime methods missing from its type declarations. */
interface RootDbExtras {
  sync(callback: (error: unknown) => void): void;
}

/** Opens (or creates) the store in `options.path`. Synchronous and O(1) in data size: nothing is replayed. */
export function openLmdbStore(options: LmdbStoreOptions): LmdbStore {
  return LmdbStore.open(options);
}

// Undo record of one put/remove inside a savepoint: the raw bytes the key held
// before (undefined: absent), restored verbatim with asBinary.
// `old` is raw bytes from getBinary (restored verbatim), or for putKnown the
// decoded previous value (re-encoded on restore; same content).
interface Undo {
  readonly db: Db;
  readonly key: Buffer;
  readonly old: Buffer | undefined;
  readonly decoded?: { readonly value: unknown };
}

export class LmdbStore implements Store, FaultInjection {
  readonly durability: Durability;
  readonly path: string;
  readonly #env: RootDatabase<unknown, Buffer>;
  readonly #dbs: Record<DbName, Db>;
  readonly #readOnly: boolean;
  readonly #readTxn: ReadTxn;
  readonly #commitTxn: CommitTxn;
  readonly #tails = new Set<JournalTail>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #pendingWrites = 0;
  #writesIdle: (() => void) | undefined;
  // Savepoint state of the transaction currently running on this thread.
  #undo: Undo[] | undefined;
  #journalTouched = false;
  #injectedCommitError: Error | undefined;
  // durability "batched": periodic fsync
  #syncTimer: NodeJS.Timeout | undefined;
  #dirtySinceSync = false;
  #syncing = false;

  private constructor(options: LmdbStoreOptions, env: RootDatabase<unknown, Buffer>, dbs: Record<DbName, Db>) {
    this.path = options.path;
    this.durability = options.durability ?? "full";
    this.#env = env;
    this.#dbs = dbs;
    this.#readOnly = options.readOnly === true;
    this.#readTxn = this.#makeReadTxn();
    this.#commitTxn = this.#makeCommitTxn();
    if (this.durability === "batched" && !this.#readOnly) {
      const flushMs = options.batchedFlushMs ?? BATCHED_FLUSH_MS_DEFAULT;
      if (!(flushMs > 0)) throw new RangeError(`batchedFlushMs must be > 0, got ${flushMs}`);
      this.#syncTimer = setInterval(() => this.#periodicSync(), flushMs);
      this.#syncTimer.unref();
    }
  }

  static open(options: LmdbStoreOptions): LmdbStore {
    const durability = options.durability ?? "full";
    checkDataFileHeader(options.path);
    let env: RootDatabase<unknown, Buffer>;
    try {
      if (!options.readOnly) mkdirSync(options.path, { recursive: true });
      env = open<unknown, Buffer>({
        path: options.path,
        // A folder, always: lmdb-js would treat a path with a dot in its last
        // segment ("my.data") as a single-file environment.
        noSubdir: false,
        maxDbs: DB_NAMES.length + 4,
        keyEncoding: "binary",
        encoding: "msgpack",
        // "full": each commit is fsynced inside mdb_txn_commit, on lmdb-js's
        // write thread; a commit becomes visible only once durable.
        // "batched"/"none": no fsync per commit (see README.md).
        overlappingSync: false,
        noSync: durability !== "full",
        // We always write through transaction callbacks; event-turn batching
        // would only add an unhandled internal promise on commit failure.
        eventTurnBatching: false,
        readOnly: options.readOnly === true,
      });
    } catch (error) {
      throw new StorageError(
        "ERR_OPEN_FAILED",
        `cannot open the data folder ${options.path}: ${(error as Error).message}; ` +
          `check that it exists, is a Calyx data folder and is readable/writable by this user`,
        { cause: error },
      );
    }
    try {
      const format = checkFormatVersion(env, options.path, options.readOnly === true);
      const dbs = {} as Record<DbName, Db>;
      for (const name of DB_NAMES) {
        const db = env.openDB<unknown, Buffer>({ name, keyEncoding: "binary", encoding: "msgpack" });
        if (db === undefined) {
          throw new StorageError(
            "ERR_FORMAT_VERSION",
            `data folder ${options.path} has no '${name}' database: it was not written by this Calyx storage format ` +
              `(format ${FORMAT_VERSION}); open it read-write once with this version, or migrate it with calyx export/import`,
          );
        }
        dbs[name] = db;
      }
      if (format === "fresh") writeFormatVersion(dbs.meta);
      else if (format === "upgrade") upgradeFormatVersion(dbs.meta);
      return new LmdbStore(options, env, dbs);
    } catch (error) {
      void env.close();
      throw error;
    }
  }

  // ---- reads -----------------------------------------------------------------

  read<T>(fn: (txn: ReadTxn) => T): T {
    if (this.#closed) throw closedError(this.path);
    // lmdb-js reads through one shared read transaction that it renews only
    // between event-loop turns and after commits, so everything fn reads
    // synchronously comes from one snapshot.
    return fn(this.#readTxn);
  }

  /**
   * Like read(), on a snapshot taken now: lmdb-js keeps a thread's read
   * transaction until the end of the event-loop turn, so another thread's
   * commit may not be visible to read() yet. A worker answering queries for
   * the main thread uses this (read-your-writes).
   */
  readFresh<T>(fn: (txn: ReadTxn) => T): T {
    this.dropSnapshot();
    return fn(this.#readTxn);
  }

  /** The next read takes a snapshot then (see readFresh), rather than reuse this turn's. */
  dropSnapshot(): void {
    if (this.#closed) throw closedError(this.path);
    (this.#env as unknown as { resetReadTxn(): void }).resetReadTxn();
  }

  getState(component: string, id: string): StoredState | undefined {
    if (this.#closed) throw closedError(this.path);
    return this.#dbs.state.get(stateKeyTransient(component, id)) as StoredState | undefined;
  }

  journalHead(): number {
    if (this.#closed) throw closedError(this.path);
    for (const key of this.#dbs.journal.getKeys({ reverse: true, limit: 1 })) {
      return decodeJournalKey(key);
    }
    return 0;
  }

  readJournal(fromGlobalSeq: number, limit: number): JournalEntry[] {
    if (this.#closed) throw closedError(this.path);
    const out: JournalEntry[] = [];
    if (limit <= 0) return out;
    for (const { key, value } of this.#dbs.journal.getRange({ start: journalKey(Math.max(0, fromGlobalSeq)), limit })) {
      out.push(toEntry(key, value));
    }
    return out;
  }

  replayEntity(component: string, id: string, fromEntitySeq = 0, limit = Number.MAX_SAFE_INTEGER): JournalEntry[] {
    if (this.#closed) throw closedError(this.path);
    return this.read((txn) => entityHistory(txn, component, id, fromEntitySeq, limit));
  }

  tail(fromGlobalSeq: number, listener: TailListener): TailHandle {
    if (this.#closed) throw closedError(this.path);
    const tail = new JournalTail(fromGlobalSeq, listener, (from, limit) => this.readJournal(from, limit), (t) => this.#tails.delete(t));
    this.#tails.add(tail);
    return tail;
  }

  // ---- writes ----------------------------------------------------------------

  write<T>(fn: (txn: CommitTxn) => T): Promise<T> {
    if (this.#closed) return Promise.reject(closedError(this.path));
    if (this.#readOnly) return Promise.reject(new StorageError("ERR_STORE_CLOSED", `store ${this.path} was opened read-only`));
    this.#pendingWrites++;
    let result: T | undefined;
    let fnError: { error: unknown } | undefined;
    let injected: Error | undefined;
    // childTransaction: lmdb-js runs the callback on this thread inside its
    // async write transaction (the commit and fsync happen on its write
    // thread). As a child, a throwing callback is aborted as a whole; a plain
    // transaction() callback that throws would still commit its partial writes.
    const committed = this.#env.childTransaction(() => {
      this.#journalTouched = false;
      try {
        result = fn(this.#commitTxn);
        injected = this.#injectedCommitError;
        if (injected) {
          // Simulate a failed commit: abort everything fn wrote.
          this.#injectedCommitError = undefined;
          throw injected;
        }
      } catch (error) {
        if (error !== injected) fnError = { error };
        throw error;
      } finally {
        this.#undo = undefined;
      }
    });
    return committed.then(
      () => {
        this.#afterWrite();
        if (this.durability === "batched") this.#dirtySinceSync = true;
        if (this.#journalTouched) for (const t of this.#tails) t.notify();
        return result as T;
      },
      async (error: unknown) => {
        this.#afterWrite();
        if (fnError) throw fnError.error;
        throw await this.#commitError(error);
      },
    );
  }

  /** Test-only: the next write() fails as if its commit had failed with `error` (nothing is written). */
  failNextCommit(error: Error): void {
    this.#injectedCommitError = error;
  }

  /**
   * Consistent, compacted online copy of the environment into `dir`, which
   * must exist and hold no data.mdb; writes continue meanwhile (LMDB copies
   * from one read snapshot). See backup.ts for the file-level API.
   */
  async copyTo(dir: string): Promise<void> {
    if (this.#closed) throw closedError(this.path);
    await this.#env.backup(dir, true);
  }

  /**
   * A read snapshot that stays valid across awaits, until done() (for long
   * reads such as export). Keep it short-lived: an open snapshot stops LMDB
   * from reusing pages freed after it.
   */
  snapshot(): ReadTxn & { done(): void } {
    if (this.#closed) throw closedError(this.path);
    const txn = this.#env.useReadTransaction();
    const dbs = this.#dbs;
    const withTxn = { transaction: txn };
    let finished = false;
    return {
      get: (db, key) => dbs[db].get(key, withTxn),
      range: (db, options) => rangeOf(dbs[db], options, txn),
      done: () => {
        if (finished) return;
        finished = true;
        txn.done();
      },
    };
  }

  async close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#pendingWrites > 0) {
      await new Promise<void>((resolve) => {
        this.#writesIdle = resolve;
      });
    }
    this.#closed = true;
    for (const t of this.#tails) t.stop();
    if (this.#syncTimer) clearInterval(this.#syncTimer);
    if (this.durability !== "full" && !this.#readOnly) await this.#sync().catch(() => undefined);
    await this.#env.close();
  }

  // ---- internals -------------------------------------------------------------

  #afterWrite(): void {
    this.#pendingWrites--;
    if (this.#pendingWrites === 0 && this.#writesIdle) {
      const idle = this.#writesIdle;
      this.#writesIdle = undefined;
      idle();
    }
  }

  async #commitError(error: unknown): Promise<StorageError> {
    // lmdb-js rejects with "Commit failed (see commitError for details)" and
    // the real cause in a second promise.
    let cause = error;
    const commitError = (error as { commitError?: Promise<unknown> } | undefined)?.commitError;
    if (commitError) {
      try {
        await commitError;
      } catch (inner) {
        cause = inner;
      }
    }
    if (isDiskFullError(cause) || (isIoError(cause) && this.#diskLooksFull())) {
      return new StorageError(
        "ERR_DISK_FULL",
        `commit to ${this.path} failed: the disk is full (${(cause as Error).message}); nothing of this batch was written ` +
          `and reads keep working; free space on that file system, writes then succeed again`,
        { cause },
      );
    }
    return new StorageError(
      "ERR_COMMIT_FAILED",
      `commit to ${this.path} failed: ${(cause as Error | undefined)?.message ?? String(cause)}; nothing of this batch was written`,
      { cause },
    );
  }

  // LMDB turns a short write (which is how ENOSPC often surfaces) into EIO.
  // Call it disk-full when the file system has less than 1 MiB left.
  #diskLooksFull(): boolean {
    try {
      const s = statfsSync(this.path);
      return s.bavail * s.bsize < 1024 * 1024;
    } catch {
      return false;
    }
  }

  #periodicSync(): void {
    if (!this.#dirtySinceSync || this.#syncing || this.#closed) return;
    this.#dirtySinceSync = false;
    this.#syncing = true;
    this.#sync()
      .catch((error: unknown) => {
        this.#dirtySinceSync = true;
        console.error(`calyx storage: periodic fsync of ${this.path} failed:`, error);
      })
      .finally(() => {
        this.#syncing = false;
      });
  }

  #sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      (this.#env as unknown as RootDbExtras).sync((error) => (error ? reject(error as Error) : resolve()));
    });
  }

  #makeReadTxn(): ReadTxn {
    const dbs = this.#dbs;
    return {
      get: (db, key) => dbs[db].get(key),
      range: (db, options) => rangeOf(dbs[db], options),
    };
  }

  #makeCommitTxn(): CommitTxn {
    const dbs = this.#dbs;
    const record = (db: Db, key: Buffer): void => {
      const undo = this.#undo;
      if (undo) undo.push({ db, key: Buffer.from(key), old: db.getBinary(key) });
    };
    return {
      get: (db, key) => dbs[db].get(key),
      range: (db, options) => rangeOf(dbs[db], options),
      put: (db, key, value) => {
        const d = dbs[db];
        record(d, key);
        if (db === "journal") this.#journalTouched = true;
        void d.put(key, value);
      },
      remove: (db, key) => {
        const d = dbs[db];
        record(d, key);
        void d.remove(key);
      },
      putKnown: (db, key, value, previous) => {
        const d = dbs[db];
        const undo = this.#undo;
        if (undo) undo.push({ db: d, key: Buffer.from(key), old: undefined, ...(previous === undefined ? {} : { decoded: { value: previous } }) });
        if (db === "journal") this.#journalTouched = true;
        void d.put(key, value);
      },
      savepoint: () => {
        this.#undo = [];
      },
      rollbackToSavepoint: () => {
        const undo = this.#undo;
        this.#undo = undefined;
        if (!undo) return;
        for (let i = undo.length - 1; i >= 0; i--) {
          const u = undo[i] as Undo;
          if (u.decoded !== undefined) void u.db.put(u.key, u.decoded.value);
          else if (u.old === undefined) void u.db.remove(u.key);
          else void u.db.put(u.key, asBinary(u.old));
        }
      },
      releaseSavepoint: () => {
        this.#undo = undefined;
      },
      // LMDB's txnid; inside a child transaction, its parent's.
      writeTxnId: () => this.#env.getWriteTxnId(),
    };
  }
}

interface LmdbRange {
  start?: Buffer;
  end?: Buffer;
  limit?: number;
  reverse?: boolean;
  exclusiveStart?: boolean;
  inclusiveEnd?: boolean;
  transaction?: LmdbTransaction;
}

function rangeOf(db: Db, options: RangeOptions, transaction?: LmdbTransaction): Iterable<Entry> {
  // Our contract: start inclusive, end exclusive, in key order; `reverse`
  // walks the same range from its end. lmdb-js's reverse ranges go from
  // `start` (high) down to `end` (low), so swap and fix the inclusivity.
  const o: LmdbRange = {};
  if (options.reverse) {
    o.reverse = true;
    if (options.end !== undefined) {
      o.start = options.end;
      o.exclusiveStart = true;
    }
    if (options.start !== undefined) {
      o.end = options.start;
      o.inclusiveEnd = true;
    }
  } else {
    if (options.start !== undefined) o.start = options.start;
    if (options.end !== undefined) o.end = options.end;
  }
  if (options.limit !== undefined) o.limit = options.limit;
  if (transaction !== undefined) o.transaction = transaction;
  return db.getRange(o as Parameters<Db["getRange"]>[0]) as Iterable<Entry>;
}

function toEntry(key: Buffer, value: unknown): JournalEntry {
  const e = value as JournalRecord & { globalSeq: number };
  e.globalSeq = decodeJournalKey(key);
  return e;
}

function isIoError(e: unknown): boolean {
  const err = e as { code?: unknown; errno?: unknown; message?: unknown } | undefined;
  return err?.code === 5 || err?.code === "EIO" || err?.errno === 5 || (typeof err?.message === "string" && /Input\/output error/.test(err.message));
}

function closedError(path: string): StorageError {
  return new StorageError("ERR_STORE_CLOSED", `the store at ${path} is closed; this is a shutdown race or a bug in the caller`);
}
