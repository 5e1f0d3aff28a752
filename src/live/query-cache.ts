// Answers of HTTP list queries, kept until a commit may have changed them.
//
// A view query is pure SQL over one table, so its answer changes only when a
// commit changes a row that passes its WHERE. Each cached answer is filed in
// the same routing index live queries use (route-index.ts: by hash for
// `col = :p`, by interval for ranges, else "every change to the table"), and
// every commit's row changes drop the answers they may touch. The rules that
// make a hit as fresh as reading the store at that moment (docs/host.md
// "Query result cache"):
//
//  - an answer is filled by a read that starts after its placeholder is
//    filed (the worker takes a fresh snapshot for each query);
//  - a commit drops what its rows touch twice: in `prepare`, before it can be
//    visible to any reader, and in `settle`, once it is durable — the second
//    pass drops placeholders filed in between, whose read may have missed it;
//    in between, an answer the commit touches is not kept (its read may
//    predate the commit, which other readers may already see);
//  - a placeholder dropped before its answer arrives is not filled (the
//    answer is still sent to the client that asked; it is just not kept);
//  - a hot reload clears everything, and a table being built is not cached.
//
// Only queries routed by equality (`col = :p`, IN, ANY) are cached: a row
// change touches the few answers of its own values. An answer routed by a
// range or by "any change" is touched by a large share of all writes (a
// write's name falls inside half of all `name >= :from` ranges), so under
// writes such answers are dropped before they are read again and the
// dropping costs the main thread more than the hits save (measured:
// docs/host.md "Query result cache").
import type { CacheStats } from "../host/metrics.js";
import type { CompiledQuery, CompiledView, Row, RowDelta } from "../query/types.js";
import { normalizeParams, pipelineKey, type Params } from "./params.js";
import { RouteIndex } from "./route-index.js";
import { routeSpec } from "./route-spec.js";
import type { LiveSource } from "./source.js";

export interface QueryCacheOptions {
  /** Budget for cached answers (their text, keys and bookkeeping, approximately). */
  readonly maxBytes: number;
  /** Larger answers are not kept. Default: a sixteenth of maxBytes. */
  readonly entryBytesMax?: number;
}

/** Bookkeeping per entry (key objects, map and index slots), counted against the budget. */
const ENTRY_OVERHEAD_BYTES = 256;

interface Prepared {
  readonly deltas: readonly RowDelta[];
  readonly keys: Map<RouteIndex<QueryFill>, Set<string>>;
}

/** A cached answer, or the placeholder of one being computed (body undefined). */
export class QueryFill {
  body: string | undefined = undefined;
  bytes: number;
  /** Hit since the eviction sweep last passed it (second chance). */
  used = false;
  constructor(
    readonly key: string,
    readonly table: string,
    readonly query: CompiledQuery,
  ) {
    this.bytes = key.length + ENTRY_OVERHEAD_BYTES;
  }
}

/** The CacheStats of /_calyx/metrics (invalidations: dropped by commits), and how many answers were kept. */
export type QueryCacheStats = CacheStats & { readonly stores: number };

type Source = Pick<LiveSource, "onCommit" | "onRoutesChanged" | "building">;

export class QueryCache {
  readonly #source: Source;
  readonly #maxBytes: number;
  readonly #entryBytesMax: number;
  /** Key → entry, oldest first; a hit only marks its entry used, the eviction sweep gives used ones a second chance (as the reply cache does). */
  readonly #entries = new Map<string, QueryFill>();
  readonly #routes = new Map<string, Map<CompiledQuery, RouteIndex<QueryFill>>>();
  /** Per query: whether it is cached at all (routed by equality). */
  readonly #cacheable = new WeakMap<CompiledQuery, boolean>();
  #bytes = 0;
  /** The commit between prepare and settle: its row changes, and each index's keys of them (computed once, see #keysIn). */
  #prepared: Prepared | undefined;
  #unlisten: (() => void) | undefined;
  readonly #stats = { hits: 0, misses: 0, stores: 0, invalidations: 0, evictions: 0 };

  constructor(source: Source, options: QueryCacheOptions) {
    this.#source = source;
    this.#maxBytes = options.maxBytes;
    this.#entryBytesMax = options.entryBytesMax ?? Math.floor(options.maxBytes / 16);
  }

  start(): void {
    this.#unlisten = this.#source.onCommit({
      prepare: (deltas) => {
        const prepared: Prepared = { deltas, keys: new Map() };
        this.#prepared = prepared;
        this.#drop(prepared);
      },
      settle: () => {
        const prepared = this.#prepared;
        this.#prepared = undefined;
        if (prepared !== undefined) this.#drop(prepared);
      },
    });
    this.#source.onRoutesChanged(() => this.clear());
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
    this.clear();
  }

  /**
   * The cached answer to this query (a string), or a placeholder to pass to
   * fill() with the answer once computed, or undefined: not cacheable now
   * (bad parameters, the view's table being built).
   */
  lookup(view: CompiledView, query: CompiledQuery, params: Params, variant: string): string | QueryFill | undefined {
    let cacheable = this.#cacheable.get(query);
    if (cacheable === undefined) this.#cacheable.set(query, (cacheable = routeSpec(query.plan.filter).kind === "eq"));
    if (!cacheable) return undefined;
    if (this.#source.building(view.table)) {
      this.#dropTable(view.table); // rows written by a build arrive as no row changes
      return undefined;
    }
    let normalized: Record<string, unknown>;
    try {
      normalized = normalizeParams(query, params);
    } catch {
      return undefined; // the query's own error answer says what is wrong
    }
    const key = variant + pipelineKey(view.name, query, normalized);
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (entry.body !== undefined) {
        this.#stats.hits++;
        entry.used = true;
        return entry.body;
      }
      this.#stats.misses++;
      return entry; // being computed: whichever answer arrives first fills it
    }
    this.#stats.misses++;
    const fill = new QueryFill(key, view.table, query);
    this.#entries.set(key, fill);
    this.#bytes += fill.bytes;
    this.#index(view.table, query).add(fill, normalized);
    this.#evict();
    return fill;
  }

  /**
   * Keeps `body` as the answer of `fill`'s query, unless a commit or a reload
   * dropped the placeholder meanwhile; null: no answer to keep (the worker
   * declined or failed), the placeholder goes.
   */
  fill(fill: QueryFill, body: string | null): void {
    if (this.#entries.get(fill.key) !== fill || fill.body !== undefined) return;
    // While a commit syncs, a read may or may not have seen it: an answer
    // it may change is not kept (the prepare dropped the older ones, and
    // the settle would drop this one; keeping it until then could serve the
    // state before the commit after a reader already saw the commit).
    if (body === null || body.length > this.#entryBytesMax || (this.#prepared !== undefined && this.#touches(fill, this.#prepared))) {
      this.#remove(fill);
      return;
    }
    fill.body = body;
    fill.bytes += body.length;
    this.#bytes += body.length;
    this.#stats.stores++;
    this.#evict();
  }

  clear(): void {
    this.#entries.clear();
    this.#routes.clear();
    this.#bytes = 0;
  }

  stats(): QueryCacheStats {
    return { ...this.#stats, entries: this.#entries.size, bytes: this.#bytes };
  }

  #index(table: string, query: CompiledQuery): RouteIndex<QueryFill> {
    let byQuery = this.#routes.get(table);
    if (byQuery === undefined) this.#routes.set(table, (byQuery = new Map()));
    let index = byQuery.get(query);
    if (index === undefined) byQuery.set(query, (index = new RouteIndex<QueryFill>(routeSpec(query.plan.filter))));
    return index;
  }

  /**
   * The keys the commit's rows of `table` (before and after each change) are
   * filed under in `index`: computed on first use and kept for the commit,
   * so that prepare, settle and every answer arriving in between (#touches)
   * share one computation instead of each routing every row again.
   */
  #keysIn(prepared: Prepared, table: string, index: RouteIndex<QueryFill>): ReadonlySet<string> {
    let keys = prepared.keys.get(index);
    if (keys === undefined) {
      keys = new Set();
      for (const d of prepared.deltas) {
        if (d.table !== table) continue;
        if (d.old !== null) for (const k of index.rowKeys(d.old as Row)) keys.add(k);
        if (d.new !== null) for (const k of index.rowKeys(d.new as Row)) keys.add(k);
      }
      prepared.keys.set(index, keys);
    }
    return keys;
  }

  /** Drops every entry a row of the commit may belong to (before or after the change). */
  #drop(prepared: Prepared): void {
    if (this.#entries.size === 0) return;
    const hits: QueryFill[] = [];
    const hit = (f: QueryFill): void => {
      hits.push(f);
    };
    for (const table of new Set(prepared.deltas.map((d) => d.table))) {
      const byQuery = this.#routes.get(table);
      if (byQuery === undefined) continue;
      for (const index of byQuery.values()) index.matchKeys(this.#keysIn(prepared, table, index), hit);
    }
    for (const f of hits) {
      if (this.#entries.get(f.key) !== f) continue; // already dropped (matched twice)
      this.#stats.invalidations++;
      this.#remove(f);
    }
  }

  #touches(f: QueryFill, prepared: Prepared): boolean {
    const index = this.#routes.get(f.table)?.get(f.query);
    if (index === undefined) return false;
    return index.filedUnder(f, this.#keysIn(prepared, f.table, index));
  }

  #dropTable(table: string): void {
    const byQuery = this.#routes.get(table);
    if (byQuery === undefined) return;
    this.#routes.delete(table);
    for (const [key, f] of this.#entries) {
      if (f.table !== table) continue;
      this.#entries.delete(key);
      this.#bytes -= f.bytes;
    }
  }

  #evict(): void {
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.values().next();
      if (oldest.done === true) break;
      const f = oldest.value;
      if (f.used) {
        // Hit since the sweep last passed: moves to the young end, once.
        f.used = false;
        this.#entries.delete(f.key);
        this.#entries.set(f.key, f);
        continue;
      }
      this.#stats.evictions++;
      this.#remove(f);
    }
  }

  #remove(f: QueryFill): void {
    this.#entries.delete(f.key);
    this.#bytes -= f.bytes;
    const byQuery = this.#routes.get(f.table);
    const index = byQuery?.get(f.query);
    if (index === undefined) return;
    index.delete(f);
    if (index.size === 0) {
      byQuery?.delete(f.query);
      if (byQuery?.size === 0) this.#routes.delete(f.table);
    }
  }
}
