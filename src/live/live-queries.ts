// The live query manager: subscriptions, their shared pipelines, the routing
// index, and the per-commit loop. It hangs off the runtime for the life of the
// process: a hot reload keeps it (and every subscription), and it re-resolves
// the compiled queries afterwards.
//
// Per commit, in two steps (LiveSource.onCommit). `prepare` runs inside the
// commit's transaction, before it is durable: each row delta is routed to the
// pipelines whose predicate it may satisfy (old row and new row), and each
// touched pipeline applies its deltas in one go (reads see the commit) and
// emits at most one change, which is held. `settle` runs once the commit is
// durable: the held changes go to the subscribers, then the flush listeners
// run (the gateway sends what it queued, one frame per socket). So the
// routing, window and diff work overlaps the disk's sync, and subscribers
// still see nothing that is not durable. If the commit fails instead, every
// pipeline it touched is loaded again from the store and its subscribers get
// a reset and a fresh snapshot.
//
// Between the two steps a pipeline may hold a change that is not durable yet,
// so a subscription started then must not see the pipeline's current rows: a
// new pipeline (it could not read the commit) and a new subscriber of a
// pipeline with a held change start "pending" and get their snapshot at
// settle; a resume gets the durable changes at once and the held one at settle.
import type { CompiledQuery, ResultShape, Row, RowDelta } from "../query/types.js";
import type { ReadTxn } from "../storage/store.js";
import { LiveError } from "./errors.js";
import { LIVE_DEFAULTS, type LiveLimits } from "./limits.js";
import { normalizeParams, pipelineKey, type Params } from "./params.js";
import { Pipeline, type Change, type Snapshot } from "./pipeline.js";
import { RouteIndex } from "./route-index.js";
import { routeSpec } from "./route-spec.js";
import { liveShape } from "./shape.js";
import type { LiveSource } from "./source.js";

/** Receives one subscription's stream. Implementations must not throw. */
export interface LiveSubscriber {
  /** One commit's changes to the result. */
  change(change: Change): void;
  /**
   * The stream restarts (the query changed in a hot reload, or its view is
   * being rebuilt): what the subscriber holds is stale; a snapshot follows.
   */
  reset(reason: string): void;
  /** A full result that replaces everything (after reset, or a first snapshot delayed by a view build). */
  snapshot(snapshot: Snapshot): void;
  /** The subscription ended (error.code says why); nothing more follows. */
  end(error: Error & { code: string }): void;
}

export interface SubscribeRequest {
  readonly view: string;
  readonly query: string;
  readonly params: Params;
  /** The stream and last seq a reconnecting client saw. */
  readonly resume?: { readonly stream: string; readonly seq: number } | undefined;
}

export type SubscribeStart =
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot; /** Set when a resume was asked for and is not possible. */ readonly resetReason: string | null }
  | { readonly kind: "resumed"; readonly stream: string; readonly seq: number; readonly changes: readonly Change[] }
  /** The view is being built: the snapshot comes through LiveSubscriber.snapshot once it is done. */
  | { readonly kind: "pending"; readonly resetReason: string | null };

export interface LiveSubscription {
  close(): void;
}

/** What subscribe() returns: how the stream starts (send it, do not keep it) and the handle to keep. */
export interface Subscribed {
  readonly start: SubscribeStart;
  readonly subscription: LiveSubscription;
}

export interface LiveStats {
  pipelines: number;
  subscriptions: number;
  /** Rows held by all pipelines. */
  rows: number;
  commits: number;
  deltas: number;
  /** (delta, pipeline) pairs the routing index produced. */
  routed: number;
  changes: number;
}

interface Rec {
  readonly pipeline: Pipeline;
  readonly subscribers: Set<LiveSubscriber>;
  expiry: NodeJS.Timeout | undefined;
  /** Waiting for its view's build: not loaded, not routed. */
  waiting: boolean;
}

const BUILDING_REASON = "the view is being rebuilt";
const NO_STREAM_REASON = "the server no longer has this stream (it restarted, the query changed, or the subscription expired)";
const ROLLED_BACK_REASON = "a commit failed and was rolled back; the result is read again";

/** A change computed in prepare, and the subscribers of its pipeline (a live set). */
export interface HeldChange {
  readonly change: Change;
  readonly to: ReadonlySet<LiveSubscriber>;
}

interface Held extends HeldChange {
  /** Subscribers that joined meanwhile and wait for a snapshot that includes the change. */
  skip: Set<LiveSubscriber> | null;
}

/** The commit between prepare and settle. */
interface Prepared {
  /** Every pipeline that applied deltas (a rollback reloads them). */
  readonly touched: Set<Rec>;
  readonly held: Map<Rec, Held>;
  /** Pipelines whose apply threw: ended at settle if the commit is durable. */
  readonly failed: [Rec, unknown][];
  /** Subscribers that started meanwhile and wait for their snapshot. */
  readonly deferred: Map<LiveSubscriber, Rec>;
}

type Read = <T>(fn: (txn: ReadTxn) => T) => T;

export class LiveQueries {
  readonly #source: LiveSource;
  readonly #limits: LiveLimits;
  readonly #read: Read;
  readonly #recs = new Map<string, Rec>();
  readonly #byPipeline = new Map<Pipeline, Rec>();
  /** table -> compiled query -> its routing index. */
  #routes = new Map<string, Map<CompiledQuery, RouteIndex<Rec>>>();
  readonly #flush: (() => void)[] = [];
  readonly #preparedListeners: ((held: Iterable<HeldChange>) => void)[] = [];
  #unlisten: (() => void) | undefined;
  #buildPoll: NodeJS.Timeout | undefined;
  #prepared: Prepared | null = null;
  /** The pipelines with `waiting` set (so a settle does not scan them all). */
  readonly #waiting = new Set<Rec>();
  /** A hot reload arrived between prepare and settle: applied at settle. */
  #reloadAfterSettle = false;
  #subscriptions = 0;
  readonly #stats = { commits: 0, deltas: 0, routed: 0, changes: 0 };

  constructor(source: LiveSource, limits: Partial<LiveLimits> = {}) {
    this.#source = source;
    this.#limits = { ...LIVE_DEFAULTS, ...limits };
    this.#read = (fn) => source.read(fn);
  }

  start(): void {
    this.#unlisten = this.#source.onCommit({
      prepare: (deltas, txn) => this.#prepare(deltas, txn),
      settle: (durable) => this.#settle(durable),
    });
    this.#source.onRoutesChanged(() => this.#reloaded());
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
    clearInterval(this.#buildPoll);
    for (const rec of this.#recs.values()) clearTimeout(rec.expiry);
  }

  /**
   * Called at the end of each prepare, inside the commit's transaction, with
   * the changes held for settle and the subscribers they are for. A listener
   * may do its per-subscriber work now (the gateway frames them); settle still
   * delivers each change with change() to those still subscribed (and to
   * resumes started meanwhile), or nothing if the commit failed.
   */
  onPrepared(listener: (held: Iterable<HeldChange>) => void): void {
    this.#preparedListeners.push(listener);
  }

  /** Called after each commit's changes were handed to subscribers. */
  onFlush(listener: () => void): void {
    this.#flush.push(listener);
  }

  /**
   * Subscribes to a query: the first result is a snapshot, or (on a valid
   * resume) the changes the subscriber missed. Throws LiveError and the
   * query's own errors (unknown parameters, wrong types, row cap).
   */
  subscribe(req: SubscribeRequest, subscriber: LiveSubscriber): Subscribed {
    const { view, query } = this.#resolve(req.view, req.query);
    const shape = liveShape(view, query);
    const params = normalizeParams(query, req.params);
    const key = pipelineKey(view.name, query, params);
    const prepared = this.#prepared;
    let rec = this.#recs.get(key);
    if (rec === undefined) {
      const pipeline = new Pipeline(key, shape, params, this.#limits);
      // Between prepare and settle a new pipeline cannot read the commit in
      // flight: it waits, like one whose view is being built, and loads at settle.
      const waiting = prepared !== null || this.#source.building(view.table);
      if (waiting) pipeline.validate();
      else pipeline.load(this.#read);
      rec = { pipeline, subscribers: new Set(), expiry: undefined, waiting };
      if (waiting) this.#waiting.add(rec);
      this.#recs.set(key, rec);
      this.#byPipeline.set(pipeline, rec);
      if (!waiting) this.#route(rec);
      else if (prepared === null) this.#pollBuilds();
    }
    const p = rec.pipeline;
    const held = prepared?.held.get(rec);
    let start: SubscribeStart | undefined;
    let resetReason: string | null = null;
    if (rec.waiting) {
      const reason = this.#source.building(view.table) ? BUILDING_REASON : NO_STREAM_REASON;
      start = { kind: "pending", resetReason: req.resume === undefined ? null : reason };
    } else if (req.resume !== undefined) {
      let changes = req.resume.stream === p.stream ? p.changesAfter(req.resume.seq) : null;
      // The held change is not durable yet: it follows at settle.
      if (changes !== null && held !== undefined) changes = req.resume.seq < held.change.seq ? changes.filter((c) => c.seq < held.change.seq) : null;
      if (changes !== null) {
        start = { kind: "resumed", stream: p.stream, seq: req.resume.seq, changes };
        held?.skip?.delete(subscriber); // it gets the held change at settle
        prepared?.deferred.delete(subscriber);
      } else if (req.resume.stream !== p.stream) resetReason = NO_STREAM_REASON;
      else resetReason = `the changes after seq ${req.resume.seq} are no longer kept`;
    }
    if (start === undefined && held !== undefined && prepared !== null) {
      // The pipeline's rows include a change that is not durable yet.
      start = { kind: "pending", resetReason };
      prepared.deferred.set(subscriber, rec);
      (held.skip ??= new Set()).add(subscriber);
    }
    start ??= { kind: "snapshot", snapshot: p.snapshot(), resetReason };
    clearTimeout(rec.expiry);
    rec.expiry = undefined;
    rec.subscribers.add(subscriber);
    this.#subscriptions++;
    const owner = rec;
    let open = true;
    const subscription: LiveSubscription = {
      close: () => {
        if (!open) return;
        open = false;
        if (this.#prepared?.deferred.get(subscriber) === owner) this.#prepared.deferred.delete(subscriber);
        if (owner.subscribers.delete(subscriber)) this.#subscriptions--;
        if (owner.subscribers.size === 0 && this.#recs.get(owner.pipeline.key) === owner) this.#idle(owner);
      },
    };
    return { start, subscription };
  }

  /** Runs a query once on the latest snapshot, with JSON parameters. */
  query(viewName: string, queryName: string, params: Params): { shape: ResultShape; rows: Row[] } {
    const { view, query } = this.#resolve(viewName, queryName);
    if (this.#source.building(view.table)) throw new LiveError("ERR_VIEW_BUILDING", `view '${view.name}' is being built; retry shortly`);
    const p = normalizeParams(query, params);
    return { shape: query.resultShape, rows: this.#read((txn) => [...query.execute(txn, p)]) };
  }

  stats(): LiveStats {
    let rows = 0;
    for (const rec of this.#recs.values()) rows += rec.pipeline.size;
    return { pipelines: this.#recs.size, subscriptions: this.#subscriptions, rows, ...this.#stats };
  }

  #resolve(viewName: string, queryName: string): { view: NonNullable<ReturnType<LiveSource["view"]>>; query: CompiledQuery } {
    const view = this.#source.view(viewName);
    const query = view !== undefined && Object.hasOwn(view.queries, queryName) ? view.queries[queryName] : undefined;
    if (view === undefined || query === undefined) throw new LiveError("ERR_UNKNOWN_QUERY", `no query '${queryName}' on view '${viewName}'`);
    return { view, query };
  }

  #idle(rec: Rec): void {
    if (this.#limits.resumeGraceMs <= 0) {
      this.#dispose(rec);
      return;
    }
    rec.expiry = setTimeout(() => {
      if (rec.subscribers.size === 0) this.#dispose(rec);
    }, this.#limits.resumeGraceMs);
    rec.expiry.unref();
  }

  #dispose(rec: Rec): void {
    clearTimeout(rec.expiry);
    if (this.#recs.get(rec.pipeline.key) === rec) this.#recs.delete(rec.pipeline.key);
    this.#byPipeline.delete(rec.pipeline);
    this.#waiting.delete(rec);
    this.#routes.get(rec.pipeline.shape.table)?.get(rec.pipeline.shape.query)?.delete(rec);
  }

  #route(rec: Rec): void {
    const { table, query } = rec.pipeline.shape;
    let byQuery = this.#routes.get(table);
    if (byQuery === undefined) this.#routes.set(table, (byQuery = new Map()));
    let index = byQuery.get(query);
    if (index === undefined) byQuery.set(query, (index = new RouteIndex<Rec>(routeSpec(query.plan.filter))));
    index.add(rec, rec.pipeline.params);
  }

  #fail(rec: Rec, error: unknown): void {
    const e = toCoded(error);
    const subscribers = [...rec.subscribers];
    this.#subscriptions -= subscribers.length;
    rec.subscribers.clear();
    this.#dispose(rec);
    for (const s of subscribers) s.end(e);
  }

  #prepare(deltas: readonly RowDelta[], txn: ReadTxn): void {
    if (this.#prepared !== null) this.#settle(true); // not expected: the committer settles each batch first
    this.#stats.commits++;
    this.#stats.deltas += deltas.length;
    const touched = new Map<Rec, RowDelta[]>();
    let current: RowDelta | undefined;
    const hit = (rec: Rec): void => {
      let list = touched.get(rec);
      if (list === undefined) touched.set(rec, (list = []));
      if (list[list.length - 1] !== current) list.push(current as RowDelta);
    };
    for (const d of deltas) {
      const byQuery = this.#routes.get(d.table);
      if (byQuery === undefined) continue;
      current = d;
      for (const index of byQuery.values()) {
        if (d.old !== null) index.match(d.old, hit);
        if (d.new !== null) index.match(d.new, hit);
      }
    }
    const prepared: Prepared = { touched: new Set(), held: new Map(), failed: [], deferred: new Map() };
    const read: Read = (fn) => fn(txn);
    for (const [rec, list] of touched) {
      if (rec.waiting) continue;
      this.#stats.routed += list.length;
      prepared.touched.add(rec);
      let change: Change | null;
      try {
        change = rec.pipeline.apply(list, read);
      } catch (error) {
        prepared.failed.push([rec, error]);
        continue;
      }
      if (change === null) continue;
      this.#stats.changes++;
      prepared.held.set(rec, { change, to: rec.subscribers, skip: null });
    }
    this.#prepared = prepared;
    for (const l of this.#preparedListeners) l(prepared.held.values());
  }

  #settle(durable: boolean): void {
    const prepared = this.#prepared;
    if (prepared === null) return;
    this.#prepared = null;
    const current = (rec: Rec): boolean => this.#recs.get(rec.pipeline.key) === rec;
    if (durable) {
      for (const [rec, error] of prepared.failed) if (current(rec)) this.#fail(rec, error);
      for (const [rec, held] of prepared.held) {
        for (const s of rec.subscribers) if (held.skip === null || !held.skip.has(s)) s.change(held.change);
      }
      for (const [s, rec] of prepared.deferred) if (current(rec) && rec.subscribers.has(s)) s.snapshot(rec.pipeline.snapshot());
    } else {
      // What the touched pipelines applied never happened: read them again.
      const deferred = prepared.deferred;
      for (const rec of prepared.touched) {
        if (!current(rec)) continue;
        try {
          rec.pipeline.load(this.#read);
        } catch (error) {
          this.#fail(rec, error);
          continue;
        }
        const snapshot = rec.pipeline.snapshot();
        for (const s of rec.subscribers) {
          if (!deferred.has(s)) s.reset(ROLLED_BACK_REASON);
          s.snapshot(snapshot);
        }
      }
    }
    if (this.#reloadAfterSettle) {
      this.#reloadAfterSettle = false;
      this.#reloaded(); // loads waiting pipelines and flushes
      return;
    }
    if (this.#loadWaiting() > 0) this.#pollBuilds();
    for (const f of this.#flush) f();
  }

  /** After a hot reload: adopt unchanged queries, rebuild changed ones, end removed ones; wait for views being built. */
  #reloaded(): void {
    if (this.#prepared !== null) {
      this.#reloadAfterSettle = true;
      return;
    }
    for (const rec of [...this.#recs.values()]) {
      const old = rec.pipeline.shape;
      const view = this.#source.view(old.view);
      const query = view !== undefined && Object.hasOwn(view.queries, old.query.name) ? view.queries[old.query.name] : undefined;
      if (view === undefined || query === undefined) {
        this.#fail(rec, new LiveError("ERR_QUERY_REMOVED", `query '${old.query.name}' of view '${old.view}' was removed by a reload`));
        continue;
      }
      try {
        const shape = liveShape(view, query);
        if (this.#source.building(view.table)) {
          rec.pipeline.adopt(shape);
          if (!rec.waiting) for (const s of rec.subscribers) s.reset(BUILDING_REASON);
          rec.waiting = true;
          this.#waiting.add(rec);
          this.#pollBuilds();
        } else if (rec.waiting || query === old.query) {
          rec.pipeline.adopt(shape);
        } else if (query.sql === old.query.sql && view.table === old.table) {
          rec.pipeline.adopt(shape);
        } else {
          rec.pipeline.load(this.#read, shape);
          const snapshot = rec.pipeline.snapshot();
          for (const s of rec.subscribers) {
            s.reset("the query changed in a reload");
            s.snapshot(snapshot);
          }
        }
      } catch (error) {
        this.#fail(rec, error);
      }
    }
    this.#routes = new Map();
    for (const rec of this.#recs.values()) if (!rec.waiting) this.#route(rec);
    if (this.#loadWaiting() > 0) this.#pollBuilds();
    for (const f of this.#flush) f();
  }

  /** Polls (while some pipeline waits) for view builds to finish, then loads and sends their snapshots. */
  #pollBuilds(): void {
    if (this.#buildPoll !== undefined) return;
    this.#buildPoll = setInterval(() => {
      if (this.#prepared !== null) return; // a commit is in flight: its settle loads them
      if (this.#loadWaiting() === 0) {
        clearInterval(this.#buildPoll);
        this.#buildPoll = undefined;
      }
      for (const f of this.#flush) f();
    }, this.#limits.buildPollMs);
    this.#buildPoll.unref();
  }

  /**
   * Loads, routes and sends the snapshot of every waiting pipeline whose view
   * is not being built; returns how many still wait for a build.
   */
  #loadWaiting(): number {
    if (this.#waiting.size === 0) return 0;
    let waiting = 0;
    for (const rec of [...this.#waiting]) {
      if (this.#recs.get(rec.pipeline.key) !== rec) {
        this.#waiting.delete(rec); // disposed meanwhile
        continue;
      }
      if (this.#source.building(rec.pipeline.shape.table)) {
        waiting++;
        continue;
      }
      this.#waiting.delete(rec);
      rec.waiting = false;
      try {
        rec.pipeline.load(this.#read);
      } catch (error) {
        this.#fail(rec, error);
        continue;
      }
      this.#route(rec);
      const snapshot = rec.pipeline.snapshot();
      for (const s of rec.subscribers) s.snapshot(snapshot);
    }
    return waiting;
  }
}

function toCoded(error: unknown): Error & { code: string } {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === "string") return error as Error & { code: string };
  return Object.assign(new Error(error instanceof Error ? error.message : String(error), { cause: error }), { code: "ERR_INTERNAL" });
}
