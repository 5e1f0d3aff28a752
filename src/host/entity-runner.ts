// Runs commands for the entities a worker owns: state from its cache (else the
// store), the user's handler, then the write (state, journal, view rows) and
// the reply — as data for the committer. Commands for one entity arrive here
// one at a time, in order; the worker pipelines: it runs the next command on
// the new in-memory state without waiting for the commit.
import { randomUUID } from "node:crypto";
import { getHeapStatistics } from "node:v8";
import { describe, executeCommand, UnknownCommandError } from "../api/execute.js";
import type { EntityWrite, StoredState, ViewRowChange } from "../storage/store.js";
import type { LoadedComponent } from "./discovery.js";
import type { ReplyData, RequestData } from "./messages.js";

export interface StateSource {
  getState(component: string, id: string): StoredState | undefined;
  /** The stored row of a view table (event updaters start from it). */
  getRow(table: string, pk: string): Record<string, unknown> | undefined;
}

interface Cached {
  seq: number;
  state: unknown;
  /** Rows of the event-updated views, as of `seq` (loaded on first use). */
  rows?: Map<string, Row | null>;
  /** performance.now() of the last command: idle entities are passivated. */
  usedAt: number;
}

type Row = Record<string, unknown>;
type EventHandler = (row: Row | null, event: unknown, ctx: { entityId: string; deleteRow(): symbol }) => unknown;

interface ViewFeed {
  readonly table: string;
  readonly updater: ((state: unknown) => unknown) | undefined;
  /** Event-sourced views: one updater per event type (instead of `updater`). */
  readonly onEvent: Readonly<Record<string, EventHandler>> | undefined;
}

export interface RunResult {
  readonly write: EntityWrite | undefined;
  readonly reply: ReplyData;
}

/**
 * Entities a worker keeps in memory by default. Measured both ways on 100,000
 * customers (docs/host.md): 100,000 made random reads by id 35 % faster in a
 * closed loop but the mixed load's p99 1.5–2× worse (a larger old generation
 * to collect), so it stays at 10,000.
 */
export const ENTITY_CACHE_MAX_DEFAULT = 10_000;
/** The cache is halved when the worker's heap is fuller than this share of its limit (large states). */
const HEAP_SHARE_MAX = 0.5;
/** Cache misses between two looks at the heap. */
const HEAP_CHECK_EVERY = 1_024;

/** The worker's used heap as a share of its limit. */
function heapUsedShare(): number {
  const h = getHeapStatistics();
  return h.used_heap_size / h.heap_size_limit;
}

export class EntityRunner {
  readonly #entities: ReadonlyMap<string, LoadedComponent>;
  readonly #feeds = new Map<string, ViewFeed[]>();
  readonly #source: StateSource;
  readonly #cache = new Map<string, Cached>();
  readonly #cacheMax: number;
  readonly #heapShare: () => number;
  #missesSinceHeapCheck = 0;

  readonly #idleMs: number;

  /**
   * `cacheMax` bounds the entities kept in memory (least recently used go
   * first), and so does the heap: when it is more than half full, the least
   * recently used half of the cache goes (`heapShare` reads it; tests pass
   * their own). `idleMs` passivates an entity unused for that long. An entity
   * is only dropped long after its last write was committed (docs/host.md:
   * the cache must never lose a state whose commit is still in flight).
   */
  constructor(entities: ReadonlyMap<string, LoadedComponent>, views: readonly LoadedComponent[], source: StateSource,
    cacheMax = ENTITY_CACHE_MAX_DEFAULT, idleMs = 300_000, heapShare: () => number = heapUsedShare) {
    this.#entities = entities;
    this.#source = source;
    this.#cacheMax = cacheMax;
    this.#heapShare = heapShare;
    this.#idleMs = idleMs;
    for (const v of views) {
      const from = (v.definition["from"] as { name: string }).name;
      const list = this.#feeds.get(from) ?? [];
      const updater = v.definition["updater"];
      list.push({
        table: String(v.definition["table"]),
        updater: typeof updater === "function" ? (updater as ViewFeed["updater"]) : undefined,
        onEvent: typeof updater === "object" && updater !== null ? (updater as ViewFeed["onEvent"]) : undefined,
      });
      this.#feeds.set(from, list);
    }
  }

  /** A view's rows for stored states (view rebuild); null where the state has no row. Throws what an updater throws. */
  computeRows(table: string, states: readonly unknown[], events?: readonly (readonly { type: string; payload: unknown }[])[], ids?: readonly string[]): (ViewRowChange["row"])[] {
    let feed: ViewFeed | undefined;
    for (const list of this.#feeds.values()) feed ??= list.find((f) => f.table === table);
    if (!feed) throw new Error(`no view table '${table}'`);
    const f = feed;
    if (f.onEvent) return (events ?? []).map((list, i) => foldEvents(f, null, list, ids?.[i] ?? ""));
    return states.map((state) => toRow(f, state));
  }

  /** Takes over another runner's cached states (hot reload: the data is the same, only the code changed). */
  adoptCache(other: EntityRunner): void {
    for (const [key, entry] of other.#cache) this.#cache.set(key, entry);
  }

  /** Drops entities idle for longer than idleMs; returns how many. Called periodically by the worker. */
  passivate(now = performance.now()): number {
    let dropped = 0;
    // Map order is LRU order: stop at the first entity used recently.
    for (const [key, entry] of this.#cache) {
      if (now - entry.usedAt <= this.#idleMs) break;
      this.#cache.delete(key);
      dropped++;
    }
    return dropped;
  }

  get cachedCount(): number {
    return this.#cache.size;
  }

  /** Forgets every cached entity (the entities this worker owns changed; the store is the truth). */
  forgetAll(): void {
    this.#cache.clear();
  }

  /** Forgets a cached entity (its last commit failed; the store is the truth again). */
  invalidate(component: string, id: string): void {
    this.#cache.delete(cacheKey(component, id));
  }

  run(component: string, id: string, commandName: string, body: unknown, request: RequestData | undefined): RunResult {
    const entity = this.#entities.get(component);
    if (!entity) return { write: undefined, reply: { ok: false, kind: "unknown", message: `no component '${component}'` } };
    const shape = entity.definition as unknown as Parameters<typeof executeCommand>[0];
    const current = this.#load(entity, id);
    let write: EntityWrite | undefined;
    let value: unknown;
    try {
      const ex = executeCommand(shape, current.state, id, commandName, body, request);
      if (ex.kind === "rejected") {
        return { write: undefined, reply: { ok: false, kind: "rejected", status: ex.status, code: ex.code, message: ex.message } };
      }
      value = ex.value;
      if (ex.change !== "none") {
        const deleted = ex.change === "delete";
        const rowsAfter = new Map(current.rows ?? []);
        write = {
          component, id, baseSeq: current.seq,
          state: deleted ? { deleted: true } : { value: ex.state },
          events: ex.events,
          views: this.#rows(component, id, deleted ? null : ex.state, ex.events, current, rowsAfter),
        };
        this.#remember(component, id, { seq: current.seq + 1, state: ex.state, usedAt: performance.now(), rows: rowsAfter });
      }
    } catch (error) {
      if (error instanceof UnknownCommandError) return { write: undefined, reply: { ok: false, kind: "unknown", message: error.message } };
      return { write: undefined, reply: failed(error) };
    }
    return { write, reply: { ok: true, value } };
  }

  /**
   * The view rows a write changes. State views recompute from the new state;
   * event views fold the command's events into the previous row (kept in the
   * cache, `rowsAfter` receives the new ones) and report only rows that changed.
   */
  #rows(component: string, id: string, state: unknown, events: readonly { type: string; payload: unknown }[], current: Cached,
    rowsAfter: Map<string, Row | null>): readonly ViewRowChange[] {
    const feeds = this.#feeds.get(component);
    if (!feeds) return NO_ROWS;
    const out: ViewRowChange[] = [];
    for (const f of feeds) {
      if (!f.onEvent) {
        out.push({ table: f.table, pk: id, row: toRow(f, state) });
        continue;
      }
      const before = current.rows?.has(f.table) ? (current.rows.get(f.table) ?? null) : (this.#source.getRow(f.table, id) ?? null);
      const after = foldEvents(f, before, events, id);
      rowsAfter.set(f.table, after);
      if (after !== before) out.push({ table: f.table, pk: id, row: after });
    }
    return out;
  }

  #load(entity: LoadedComponent, id: string): Cached {
    const key = cacheKey(entity.name, id);
    const hit = this.#cache.get(key);
    if (hit) {
      hit.usedAt = performance.now();
      this.#cache.delete(key); // re-insert: Map order is our LRU order
      this.#cache.set(key, hit);
      return hit;
    }
    const stored = this.#source.getState(entity.name, id);
    const initial = (): unknown => (entity.definition["initialState"] as () => unknown)();
    const usedAt = performance.now();
    // A tombstone (deleted entity) keeps its sequence; its state starts over.
    const loaded: Cached = stored
      ? { seq: stored.seq, state: stored.deleted || stored.state === undefined ? initial() : stored.state, usedAt }
      : { seq: 0, state: initial(), usedAt };
    this.#remember(entity.name, id, loaded);
    if (++this.#missesSinceHeapCheck >= HEAP_CHECK_EVERY) {
      this.#missesSinceHeapCheck = 0;
      if (this.#heapShare() > HEAP_SHARE_MAX) this.#evictOldest(Math.floor(this.#cache.size / 2));
    }
    return loaded;
  }

  /** Drops the `count` least recently used entities. */
  #evictOldest(count: number): void {
    for (const key of this.#cache.keys()) {
      if (count-- <= 0) break;
      this.#cache.delete(key);
    }
  }

  #remember(component: string, id: string, value: Cached): void {
    const key = cacheKey(component, id);
    this.#cache.delete(key);
    this.#cache.set(key, value);
    if (this.#cache.size > this.#cacheMax) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
  }
}

/** The row a view keeps for an entity's state: the updater's result, or the state itself. */
function toRow(feed: ViewFeed, state: unknown): ViewRowChange["row"] {
  const row = state === null || state === undefined ? null : feed.updater ? feed.updater(state) : state;
  if (row !== null && row !== undefined && (typeof row !== "object" || Array.isArray(row))) {
    throw new TypeError(`view '${feed.table}': a row must be an object (or null for no row), got ${describe(row)}`);
  }
  return (row ?? null) as ViewRowChange["row"];
}

const DELETE_ROW = Symbol.for("calyx.deleteRow");

/** Folds events into a row with a view's event updaters: undefined = unchanged, ctx.deleteRow() = null. */
function foldEvents(feed: ViewFeed, start: Row | null, events: readonly { type: string; payload: unknown }[], id: string): Row | null {
  let row = start;
  const ctx = { entityId: id, deleteRow: () => DELETE_ROW };
  for (const e of events) {
    const handler = feed.onEvent?.[e.type];
    if (!handler) continue;
    const next = handler(row, e.payload, ctx);
    if (next === undefined) continue;
    if (next === DELETE_ROW) row = null;
    else if (next === null || typeof next !== "object" || Array.isArray(next)) {
      throw new TypeError(`view '${feed.table}': the '${e.type}' updater must return a row object, ctx.deleteRow() or undefined, got ${describe(next)}`);
    } else row = next as Row;
  }
  return row;
}

const NO_ROWS: readonly ViewRowChange[] = Object.freeze([]);

function cacheKey(component: string, id: string): string {
  return `${component}\u0000${id}`;
}

function failed(error: unknown): ReplyData {
  const err = error instanceof Error ? error : new Error(String(error));
  return { ok: false, kind: "failed", errorId: randomUUID(), message: err.message, stack: err.stack };
}
