// Group commit: many EntityWrites in ONE write transaction, one fsync for all.
// The rules (guard, per-write rollback, batch failure, backpressure) are in
// README.md "Group commit"; the comments here say why the code is shaped so.
import { StorageError } from "./errors.js";
import { LatencyHistogram, type HistogramSnapshot } from "./histogram.js";
import { latestWrite } from "./history.js";
import { decodeJournalKey, journalKey, partitionOf, stateKey } from "./layout.js";
import type {
  BatchObserver,
  CommitHook,
  CommitResult,
  CommitTxn,
  DurableListener,
  Durability,
  EntityWrite,
  JournalRecord,
  Store,
  StoredState,
} from "./store.js";

export interface CommitterOptions {
  /** Must equal store.durability when given (the store's sync flags decide it). */
  readonly durability?: Durability;
  /** Writes in one transaction at most. Default 1024. */
  readonly batchMax?: number;
  /** Writes waiting or committing at most; beyond it submit() rejects with ERR_BACKPRESSURE. Default 50,000. */
  readonly queueMax?: number;
  /** Accepted for configuration symmetry; the store's batchedFlushMs is the one that applies. */
  readonly batchedFlushMs?: number;
  readonly hook?: CommitHook;
  /** Where loud errors go (writer conflicts, listener failures). Default console.error. */
  readonly logError?: (message: string, fields: Readonly<Record<string, unknown>>) => void;
}

export const COMMITTER_DEFAULTS = { batchMax: 1024, queueMax: 50_000 } as const;

interface Pending {
  readonly write: EntityWrite;
  readonly resolve: (result: CommitResult) => void;
  readonly reject: (error: unknown) => void;
}

/** One batch, from asking for its transaction until it is settled. */
interface Batch {
  /** Its writes, once its transaction callback ran. */
  pending: Pending[] | undefined;
  /** The id of its write transaction, and the journal's last key after it (as its callback left them). */
  txnId: number;
  head: number;
  /** Whether it appended to the journal, and the entity write its last entry records. */
  appended: boolean;
  last: { readonly component: string; readonly id: string; readonly entitySeq: number } | undefined;
  /** Shown to the observers and not yet settled for them. */
  observed: boolean;
}

// Outcome of one write inside a batch; failures settle only after the batch
// commits too (an earlier failure must not overtake an earlier success).
interface Outcome {
  readonly pending: Pending;
  readonly result: CommitResult | undefined;
  readonly error: unknown;
  readonly hookResult: unknown;
}

/** What the committer has done since it was made (for /_calyx/metrics). */
export interface CommitStats {
  /** Batches committed (durable) and failed. */
  readonly commits: number;
  readonly failedCommits: number;
  /** Writes in committed batches, those that failed alone (a guard conflict, a hook error) included; writes ÷ commits is the mean batch. */
  readonly writes: number;
  /** Writes waiting or committing now. */
  readonly pending: number;
  /** Main-thread time spent applying batches (the transaction callback), in seconds. */
  readonly applySeconds: number;
  /** A batch, from asking for the write transaction (asked for while the batch before committed: from its transaction's start) to durable or failed. */
  readonly duration: HistogramSnapshot;
  /** Its last part, after its writes were applied: LMDB writing pages and syncing, on lmdb-js's write thread. */
  readonly sync: HistogramSnapshot;
}

const committers = new WeakSet<Store>();

/** Entities whose last write failed, remembered so the dependent conflicts that follow are not reported as routing bugs. */
const RECENT_FAILURES_MAX = 10_000;

export class Committer {
  readonly #store: Store;
  readonly #batchMax: number;
  readonly #queueMax: number;
  readonly #hook: CommitHook | undefined;
  readonly #logError: (message: string, fields: Readonly<Record<string, unknown>>) => void;
  readonly #listeners: DurableListener[] = [];
  readonly #observers: BatchObserver[] = [];
  // FIFO without Array#shift: items before #head are taken.
  #queue: Pending[] = [];
  #head = 0;
  #inFlight = 0;
  /** Batches asked for and not settled: at most two, one committing and the next waiting for lmdb-js's write thread. */
  #outstanding = 0;
  /** The newest batch, while its transaction callback has not run yet (it takes every write queued by then). */
  #waiting: Batch | undefined;
  /** The batch whose callback ran and which is not settled yet (committing, or committed and not yet settled on this thread). */
  #unsettled: Batch | undefined;
  #state: "new" | "running" | "stopping" | "stopped" = "new";
  #drained: (() => void) | undefined;
  #nextGlobalSeq = 1;
  // The journal's last key after our last batch that appended to it, and the
  // id of that batch's write transaction (see #journalHead).
  #lastAppend: { readonly txnId: number; readonly head: number } | undefined;
  #recentFailures = new Set<string>();
  /** Moving average of batch commit time, for Retry-After. */
  #batchMsAvg = 1;
  readonly #stats = { commits: 0, failedCommits: 0, writes: 0, applyMs: 0 };
  readonly #duration = new LatencyHistogram();
  readonly #sync = new LatencyHistogram();

  constructor(store: Store, options: CommitterOptions = {}) {
    if (options.durability !== undefined && options.durability !== store.durability) {
      throw new Error(
        `Committer: durability '${options.durability}' differs from the store's '${store.durability}'; ` +
          `durability is chosen when the store is opened (it sets LMDB's sync flags)`,
      );
    }
    this.#store = store;
    this.#batchMax = options.batchMax ?? COMMITTER_DEFAULTS.batchMax;
    this.#queueMax = options.queueMax ?? COMMITTER_DEFAULTS.queueMax;
    if (!(this.#batchMax >= 1) || !(this.#queueMax >= 1)) throw new RangeError("Committer: batchMax and queueMax must be >= 1");
    this.#hook = options.hook;
    this.#logError = options.logError ?? ((message, fields) => console.error(`calyx storage: ${message}`, fields));
  }

  /** Reads the journal head (O(log n)); the committer must be the store's only writer. */
  start(): void {
    if (this.#state !== "new") throw new Error(`Committer.start: already ${this.#state}`);
    if (committers.has(this.#store)) throw new Error("Committer.start: this store already has a running committer (one writer per store)");
    committers.add(this.#store);
    this.#nextGlobalSeq = this.#store.journalHead() + 1;
    this.#state = "running";
  }

  /** Called, in commit order, with the successful writes of each durable batch. */
  onDurable(listener: DurableListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** Sees each batch inside its transaction, then when it is durable or failed (see BatchObserver). */
  observe(observer: BatchObserver): () => void {
    this.#observers.push(observer);
    return () => {
      const i = this.#observers.indexOf(observer);
      if (i >= 0) this.#observers.splice(i, 1);
    };
  }

  stats(): CommitStats {
    const s = this.#stats;
    return {
      commits: s.commits, failedCommits: s.failedCommits, writes: s.writes, pending: this.pending,
      applySeconds: s.applyMs / 1000, duration: this.#duration.snapshot(), sync: this.#sync.snapshot(),
    };
  }

  /** Writes waiting or committing now. */
  get pending(): number {
    return this.#queue.length - this.#head + this.#inFlight;
  }

  /**
   * Queues one write. Resolves once the batch holding it is durable; rejects
   * with a StorageError: ERR_BACKPRESSURE (immediately, queue full),
   * ERR_STORE_CLOSED, ERR_WRITER_CONFLICT, ERR_HOOK_FAILED, ERR_KEY_*,
   * ERR_WRITE_INVALID, or the batch's ERR_DISK_FULL / ERR_COMMIT_FAILED.
   */
  submit(write: EntityWrite): Promise<CommitResult> {
    if (this.#state !== "running") {
      return Promise.reject(new StorageError("ERR_STORE_CLOSED", `the committer is ${this.#state}; write of ${write.component}/${write.id} refused`));
    }
    const pending = this.pending;
    if (pending >= this.#queueMax) {
      const retryAfterMs = Math.max(1, Math.ceil((pending / this.#batchMax) * this.#batchMsAvg));
      return Promise.reject(
        new StorageError(
          "ERR_BACKPRESSURE",
          `${pending} writes are waiting for the committer (queueMax ${this.#queueMax}); retry in ${retryAfterMs} ms`,
          { retryAfterMs },
        ),
      );
    }
    return new Promise<CommitResult>((resolve, reject) => {
      this.#queue.push({ write, resolve, reject });
      if (this.#waiting === undefined && this.#outstanding < 2) this.#startBatch();
    });
  }

  /** Stops accepting writes, commits everything queued, then resolves. */
  async stop(): Promise<void> {
    if (this.#state === "stopped" || this.#state === "new") {
      this.#state = "stopped";
      return;
    }
    this.#state = "stopping";
    if (this.#outstanding > 0 || this.pending > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    this.#state = "stopped";
    committers.delete(this.#store);
  }

  // ---- the batch -------------------------------------------------------------

  #startBatch(): void {
    const self: Batch = { pending: undefined, txnId: 0, head: 0, appended: false, last: undefined, observed: false };
    this.#outstanding++;
    this.#waiting = self;
    // Asked for while the previous batch commits, a batch waits for that one;
    // its own time starts with its transaction.
    const pipelined = this.#unsettled !== undefined;
    let started = performance.now();
    let ran = false;
    let skipped = false;
    let outcomes: Outcome[] = [];
    let appliedAt: number | undefined;
    let doneAt: number | undefined; // durable or failed, before the batch is settled
    let ok = false;
    // The callback runs when lmdb-js's write thread holds the transaction, so
    // it takes everything queued by then: writes keep joining until the last
    // moment. The next batch is asked for as soon as a write arrives after
    // this callback, so that the write thread starts it the moment this one
    // is durable instead of waiting for this thread to hear about it.
    this.#store
      .write((txn) => {
        const applying = performance.now();
        if (pipelined) started = applying;
        ran = true;
        if (this.#waiting === self) this.#waiting = undefined;
        const txnId = txn.writeTxnId();
        const prev = this.#unsettled;
        if (prev !== undefined) {
          if (!this.#committedBefore(prev, txn, txnId)) {
            // Whether the previous batch committed cannot be told from here
            // (it may have failed, or run in this same transaction): take
            // nothing; the writes wait for the batch after its settlement.
            skipped = true;
            return;
          }
          // It is durable (a later transaction runs): settle it for the
          // observers now, so that they see batches one at a time.
          this.#lastAppend = { txnId: prev.txnId, head: prev.head };
          this.#settleObservers(prev, true);
        }
        // The journal head is known inside the write transaction: even if
        // another process committed to this folder, we append after it.
        const headBefore = this.#journalHead(txn, txnId);
        this.#nextGlobalSeq = headBefore + 1;
        const batch = this.#take();
        self.pending = batch;
        this.#inFlight += batch.length;
        outcomes = this.#apply(txn, batch);
        self.txnId = txnId;
        self.head = this.#nextGlobalSeq - 1;
        self.appended = self.head > headBefore;
        self.last = lastEntry(outcomes, self.head);
        this.#unsettled = self;
        if (this.#observers.length > 0) this.#showApplied(self, outcomes, txn);
        appliedAt = performance.now();
        this.#stats.applyMs += appliedAt - applying;
      })
      .then(
        () => {
          doneAt = performance.now();
          ok = true;
          if (this.#unsettled === self) this.#unsettled = undefined;
          // Appending made the transaction a committed change, so it used txnId.
          if (self.appended && !(this.#lastAppend !== undefined && this.#lastAppend.txnId > self.txnId)) {
            this.#lastAppend = { txnId: self.txnId, head: self.head };
          }
          if (!skipped) this.#settle(self, outcomes, undefined);
        },
        (error: unknown) => {
          doneAt = performance.now();
          if (this.#unsettled === self) this.#unsettled = undefined;
          this.#lastAppend = undefined;
          const batchError = toBatchError(error);
          const batch = self.pending;
          if (!ran) {
            // The transaction never ran (the store is closed): nothing queued can commit.
            this.#failQueued(batchError);
          } else if (batch === undefined) {
            // Skipped: it took no writes.
          } else if (outcomes.length !== batch.length) {
            // #apply itself threw (a bug): fail the whole batch rather than hang it.
            outcomes = batch.map((pending) => fail(pending, batchError));
            this.#settle(self, outcomes, batchError);
          } else {
            this.#settle(self, outcomes, batchError);
          }
        },
      )
      .finally(() => {
        const done = doneAt ?? performance.now();
        if (!skipped) {
          this.#batchMsAvg = 0.8 * this.#batchMsAvg + 0.2 * (performance.now() - started);
          this.#duration.observeMs(done - started);
          if (appliedAt !== undefined) this.#sync.observeMs(done - appliedAt);
          if (ok) {
            this.#stats.commits++;
            this.#stats.writes += self.pending?.length ?? 0;
          } else this.#stats.failedCommits++;
        }
        this.#inFlight -= self.pending?.length ?? 0;
        this.#outstanding--;
        if (this.#waiting === self) this.#waiting = undefined;
        if (this.#queue.length > this.#head) {
          if (this.#waiting === undefined) this.#startBatch();
        } else if (this.#outstanding === 0 && this.#drained) {
          const drained = this.#drained;
          this.#drained = undefined;
          drained();
        }
      })
      .catch((error: unknown) => this.#logError("committer bookkeeping failed", { error }));
  }

  /**
   * Whether `prev`, applied and not yet settled here, is committed, seen from
   * the transaction running now: LMDB gives the next committed transaction
   * the next id, and an aborted or failed one uses none, so an id one above
   * prev's with prev's last journal entry in place means prev committed (and,
   * with durability "full", synced) before this transaction began. The entry
   * is compared with what prev wrote there, not only looked for: after a
   * failed prev, another process could have committed an entry at that key.
   */
  #committedBefore(prev: Batch, txn: CommitTxn, txnId: number): boolean {
    const last = prev.last;
    if (!prev.appended || last === undefined || txnId !== prev.txnId + 1) return false;
    const entry = txn.get("journal", journalKey(prev.head)) as JournalRecord | undefined;
    return entry !== undefined && entry.component === last.component && entry.id === last.id && entry.entitySeq === last.entitySeq;
  }

  /**
   * The journal's last key, as this write transaction sees it. Reading it
   * takes a reverse cursor — a third of the main thread's time in a batch of
   * one write — so it is kept from our last batch that appended, and used
   * when nothing can have appended since: no transaction committed after that
   * one (LMDB's ids leave no gap, and another process's commit uses one too),
   * and nothing written earlier in this same transaction (lmdb-js runs the
   * write() calls that queue together in one transaction) holds the next key.
   */
  #journalHead(txn: CommitTxn, txnId: number): number {
    const last = this.#lastAppend;
    if (last !== undefined && txnId === last.txnId + 1 && txn.get("journal", journalKey(last.head + 1)) === undefined) return last.head;
    return journalHeadIn(txn);
  }

  #failQueued(error: StorageError): void {
    const queued = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const p of queued) p.reject(error);
  }

  #take(): Pending[] {
    const end = Math.min(this.#queue.length, this.#head + this.#batchMax);
    const batch = this.#queue.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  #apply(txn: CommitTxn, batch: readonly Pending[]): Outcome[] {
    const time = Date.now();
    const outcomes: Outcome[] = new Array<Outcome>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i] as Pending;
      outcomes[i] = this.#applyOne(txn, pending, time);
    }
    return outcomes;
  }

  #applyOne(txn: CommitTxn, pending: Pending, time: number): Outcome {
    const w = pending.write;
    let key: Buffer;
    let stored: StoredState | undefined;
    let changes: boolean;
    try {
      key = stateKey(w.component, w.id);
      stored = txn.get("state", key) as StoredState | undefined;
      changes = w.state !== undefined || w.events.length > 0;
    } catch (error) {
      return fail(pending, error instanceof StorageError ? error : invalidWrite(w, error));
    }
    const seq = stored?.seq ?? 0;
    if (seq !== w.baseSeq) return fail(pending, this.#conflict(w, seq));

    const newSeq = changes ? seq + 1 : seq;
    let g = this.#nextGlobalSeq;
    let hookResult: unknown;
    // Everything this write does to the transaction (our puts and the
    // hook's) is recorded from here, so a failure undoes exactly this write.
    txn.savepoint();
    try {
      if (changes) {
        const partition = partitionOf(w.component, w.id);
        // The entity's history is a chain through the puts made anyway: each
        // record points at the previous write, the state at this one
        // (history.ts) — no index of its own, whose random inserts cost a
        // page or two per write. Journal keys are new by construction (the
        // guard holds, sequences only grow): their undo is a remove.
        const first = g;
        const prev = latestWrite(txn, w.component, w.id, stored);
        if (w.events.length > 0) {
          for (const e of w.events) {
            txn.putKnown("journal", journalKey(g++), record(w, newSeq, e.type, e.payload, time, partition, prev), undefined);
          }
        } else if (w.state !== undefined) {
          const deleted = "deleted" in w.state;
          const payload = "deleted" in w.state ? null : w.state.value;
          txn.putKnown("journal", journalKey(g++), record(w, newSeq, deleted ? "delete" : "state", payload, time, partition, prev), undefined);
        }
        txn.putKnown("state", key, nextState(stored, w.state, newSeq, first), stored);
      }
      if (this.#hook !== undefined) {
        try {
          hookResult = this.#hook.apply(txn, w);
        } catch (error) {
          throw new StorageError(
            "ERR_HOOK_FAILED",
            `the commit hook failed for ${w.component}/${w.id}: ${(error as Error | undefined)?.message ?? String(error)}; this write was rolled back`,
            { cause: error },
          );
        }
      }
    } catch (error) {
      txn.rollbackToSavepoint();
      this.#rememberFailure(w);
      return fail(pending, error instanceof StorageError ? error : invalidWrite(w, error));
    }
    txn.releaseSavepoint();
    this.#nextGlobalSeq = g;
    if (this.#recentFailures.size > 0) this.#recentFailures.delete(entityName(w));
    return { pending, result: { seq: newSeq, globalSeq: g - 1 }, error: undefined, hookResult };
  }

  #conflict(w: EntityWrite, storedSeq: number): StorageError {
    const name = entityName(w);
    const cascade = this.#recentFailures.has(name);
    const error = new StorageError(
      "ERR_WRITER_CONFLICT",
      cascade
        ? `write of ${w.component}/${w.id} was computed on sequence ${w.baseSeq}, but the store holds ${storedSeq}: ` +
            `an earlier write of this entity failed; reload its state from the store and retry`
        : `write of ${w.component}/${w.id} was computed on sequence ${w.baseSeq}, but the store holds ${storedSeq}: ` +
            `two writers for one entity (a routing bug) or a stale cache; the write was refused, nothing was overwritten`,
    );
    if (!cascade) {
      this.#logError("single-writer guard refused a write", {
        component: w.component, id: w.id, baseSeq: w.baseSeq, storedSeq, code: error.code,
      });
    }
    return error;
  }

  #rememberFailure(w: EntityWrite): void {
    if (this.#recentFailures.size >= RECENT_FAILURES_MAX) this.#recentFailures.clear();
    this.#recentFailures.add(entityName(w));
  }

  #showApplied(batch: Batch, outcomes: readonly Outcome[], txn: CommitTxn): void {
    const applied: { write: EntityWrite; result: CommitResult; hookResult: unknown }[] = [];
    for (const o of outcomes) if (o.result) applied.push({ write: o.pending.write, result: o.result, hookResult: o.hookResult });
    batch.observed = true;
    for (const observer of this.#observers) {
      try {
        observer.applied(applied, txn);
      } catch (error) {
        this.#logError("a batch observer threw in applied()", { error });
      }
    }
  }

  /** Tells the observers that saw `batch` applied whether it is durable (once per batch). */
  #settleObservers(batch: Batch, durable: boolean): void {
    if (!batch.observed) return;
    batch.observed = false;
    for (const observer of this.#observers) {
      try {
        observer.settled(durable);
      } catch (error) {
        this.#logError("a batch observer threw in settled()", { error });
      }
    }
  }

  #settle(batch: Batch, outcomes: readonly Outcome[], batchError: StorageError | undefined): void {
    this.#settleObservers(batch, batchError === undefined);
    if (batchError === undefined && this.#listeners.length > 0) {
      const durable: { write: EntityWrite; result: CommitResult; hookResult: unknown }[] = [];
      for (const o of outcomes) if (o.result) durable.push({ write: o.pending.write, result: o.result, hookResult: o.hookResult });
      for (const listener of this.#listeners) {
        try {
          listener(durable);
        } catch (error) {
          this.#logError("an onDurable listener threw", { error });
        }
      }
    }
    for (const o of outcomes) {
      if (batchError !== undefined) {
        this.#rememberFailure(o.pending.write);
        o.pending.reject(batchError);
      } else if (o.result !== undefined) o.pending.resolve(o.result);
      else o.pending.reject(o.error);
    }
  }
}

function journalHeadIn(txn: CommitTxn): number {
  for (const { key } of txn.range("journal", { reverse: true, limit: 1 })) return decodeJournalKey(key);
  return 0;
}

/** The write whose journal entry is the batch's last (at `head`). */
function lastEntry(outcomes: readonly Outcome[], head: number): Batch["last"] {
  for (let i = outcomes.length - 1; i >= 0; i--) {
    const o = outcomes[i] as Outcome;
    if (o.result !== undefined && o.result.globalSeq === head) return { component: o.pending.write.component, id: o.pending.write.id, entitySeq: o.result.seq };
  }
  return undefined;
}

function fail(pending: Pending, error: unknown): Outcome {
  return { pending, result: undefined, error, hookResult: undefined };
}

function entityName(w: EntityWrite): string {
  return `${w.component}\u0000${w.id}`;
}

function record(w: EntityWrite, entitySeq: number, type: string, payload: unknown, time: number, partition: number, prev: number): JournalRecord {
  return { component: w.component, id: w.id, entitySeq, type, payload, time, partition, prev };
}

function nextState(stored: StoredState | undefined, change: EntityWrite["state"], seq: number, last: number): StoredState {
  if (change === undefined) {
    // Events without a new state: the state is unchanged, the sequence moves on.
    return stored?.deleted ? { seq, state: undefined, deleted: true, last } : { seq, state: stored?.state, last };
  }
  if ("deleted" in change) return { seq, state: undefined, deleted: true, last };
  return { seq, state: change.value, last };
}

function invalidWrite(w: EntityWrite, error: unknown): StorageError {
  return new StorageError(
    "ERR_WRITE_INVALID",
    `write of ${w.component}/${w.id} could not be stored: ${(error as Error | undefined)?.message ?? String(error)}; ` +
      `state, event payloads and rows must be serializable data`,
    { cause: error },
  );
}

function toBatchError(error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError("ERR_COMMIT_FAILED", `the batch failed: ${(error as Error | undefined)?.message ?? String(error)}; nothing of it was written`, {
    cause: error,
  });
}
