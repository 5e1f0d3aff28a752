// Runs commands for the entities a worker owns: state from its cache (else the
// store), the user's handler, then the write (state, journal, view rows) and
// the reply — as data for the committer. Commands for one entity arrive here
// one at a time, in order; the worker pipelines: it runs the next command on
// the new in-memory state without waiting for the commit.
import { randomUUID } from "node:crypto";
import { describe, executeCommand, UnknownCommandError } from "../api/execute.js";
import type { EntityWrite, StoredState, ViewRowChange } from "../storage/store.js";
import type { LoadedComponent } from "./discovery.js";
import type { ReplyData, RequestData } from "./messages.js";

export interface StateSource {
  getState(component: string, id: string): StoredState | undefined;
}

interface Cached {
  seq: number;
  state: unknown;
  /** performance.now() of the last command: idle entities are passivated. */
  usedAt: number;
}

interface ViewFeed {
  readonly table: string;
  readonly updater: ((state: unknown) => unknown) | undefined;
}

export interface RunResult {
  readonly write: EntityWrite | undefined;
  readonly reply: ReplyData;
}

export class EntityRunner {
  readonly #entities: ReadonlyMap<string, LoadedComponent>;
  readonly #feeds = new Map<string, ViewFeed[]>();
  readonly #source: StateSource;
  readonly #cache = new Map<string, Cached>();
  readonly #cacheMax: number;

  readonly #idleMs: number;

  /**
   * `cacheMax` bounds the entities kept in memory (least recently used go
   * first); `idleMs` passivates an entity unused for that long. An entity is
   * only dropped long after its last write was committed (see README: the
   * cache must never lose a state whose commit is still in flight).
   */
  constructor(entities: ReadonlyMap<string, LoadedComponent>, views: readonly LoadedComponent[], source: StateSource,
    cacheMax = 10_000, idleMs = 300_000) {
    this.#entities = entities;
    this.#source = source;
    this.#cacheMax = cacheMax;
    this.#idleMs = idleMs;
    for (const v of views) {
      const from = (v.definition["from"] as { name: string }).name;
      const list = this.#feeds.get(from) ?? [];
      list.push({ table: String(v.definition["table"]), updater: v.definition["updater"] as ViewFeed["updater"] });
      this.#feeds.set(from, list);
    }
  }

  /** A view's rows for stored states (view rebuild); null where the state has no row. Throws what an updater throws. */
  computeRows(table: string, states: readonly unknown[]): (ViewRowChange["row"])[] {
    let feed: ViewFeed | undefined;
    for (const list of this.#feeds.values()) feed ??= list.find((f) => f.table === table);
    if (!feed) throw new Error(`no view table '${table}'`);
    return states.map((state) => toRow(feed, state));
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
        write = {
          component, id, baseSeq: current.seq,
          state: deleted ? { deleted: true } : { value: ex.state },
          events: ex.events,
          views: this.#rows(component, id, deleted ? null : ex.state),
        };
        this.#remember(component, id, { seq: current.seq + 1, state: ex.state, usedAt: performance.now() });
      }
    } catch (error) {
      if (error instanceof UnknownCommandError) return { write: undefined, reply: { ok: false, kind: "unknown", message: error.message } };
      return { write: undefined, reply: failed(error) };
    }
    return { write, reply: { ok: true, value } };
  }

  #rows(component: string, id: string, state: unknown): readonly ViewRowChange[] {
    const feeds = this.#feeds.get(component);
    if (!feeds) return NO_ROWS;
    return feeds.map((f) => ({ table: f.table, pk: id, row: toRow(f, state) }));
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
    return loaded;
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

const NO_ROWS: readonly ViewRowChange[] = Object.freeze([]);

function cacheKey(component: string, id: string): string {
  return `${component}\u0000${id}`;
}

function failed(error: unknown): ReplyData {
  const err = error instanceof Error ? error : new Error(String(error));
  return { ok: false, kind: "failed", errorId: randomUUID(), message: err.message, stack: err.stack };
}
