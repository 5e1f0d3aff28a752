// The runtime: one store, one committer, the compiled views and a worker pool,
// wired together and served to src/http as a Service. A command runs on its
// entity's worker; its write (state, journal, view rows) is group-committed;
// its reply is released once that commit is durable.
import type { CompiledView } from "../query/compile-view.js";
import { compileViews, type CompiledViews } from "./compile-views.js";
import { ViewSqlCache } from "./view-sql-cache.js";
import { knownParse } from "../query/parse/parse-query.js";
import { startupTrace } from "../cli/startup-trace.js";
import { Committer } from "../storage/committer.js";
import { openLmdbStore, type Store } from "../storage/lmdb-store.js";
import type { CommitHook, Durability, EntityWrite, FaultInjection, ReadTxn } from "../storage/store.js";
import type { RowDelta } from "../query/types.js";
import type { CommitListener } from "../live/source.js";
import { HostError, ProjectError } from "./errors.js";
import type { LogFn } from "./logger.js";
import type { EndpointRequestData, FromWorker, Manifest, RequestData, ViewManifest } from "./messages.js";
import { ViewBuilder } from "./view-builder.js";
import { REPLY_CACHE_DEFAULT_MB, ReplyCache, type ReplySlot } from "./reply-cache.js";
import { parseRoute } from "./discovery.js";
import { WORKER_HEAP_MB_DEFAULT, WorkerPool, type PoolOptions } from "./worker-pool.js";
import { Metrics, type CacheStats } from "./metrics.js";

export interface RuntimeOptions {
  readonly projectDir: string;
  readonly dataDir: string;
  readonly workers: number;
  /**
   * Workers loaded before start() resolves (default: all of them); the
   * others start when startRemainingWorkers() is called.
   */
  readonly workersAtStart?: number;
  readonly durability: Durability;
  readonly handlerTimeoutMs: number;
  readonly workerHeapMb: number;
  /** Commands queued per worker before 503. */
  readonly workerQueueMax: number;
  /** Writes waiting for the committer before 503. */
  readonly commitQueueMax: number;
  /** Writes in one transaction at most. */
  readonly commitBatchMax: number;
  /** Budget of the replies of pure commands kept on the main thread (`--reply-cache-mb`); 0 turns it off. */
  readonly replyCacheBytes?: number;
  readonly log: LogFn;
}

export const RUNTIME_DEFAULTS = {
  durability: "full" as Durability,
  handlerTimeoutMs: 5_000,
  workerHeapMb: WORKER_HEAP_MB_DEFAULT,
  workerQueueMax: 10_000,
  commitQueueMax: 50_000,
  commitBatchMax: 1_024,
  replyCacheBytes: REPLY_CACHE_DEFAULT_MB * 2 ** 20,
};

export interface RouteEntry {
  readonly method: string;
  readonly path: string;
  readonly target:
    | { readonly kind: "command"; readonly component: string; readonly command: string; readonly key: string }
    | { readonly kind: "query"; readonly view: string; readonly query: string }
    | { readonly kind: "endpoint"; readonly endpoint: string; readonly route: string };
}

/** One loaded version of the project: its workers, manifest and compiled views. */
interface Generation {
  readonly pool: WorkerPool;
  readonly manifest: Manifest;
  /** By table name (the commit hook's lookup). */
  readonly views: ReadonlyMap<string, CompiledView>;
  /** By view name (queries). */
  readonly viewsByName: ReadonlyMap<string, CompiledView>;
}

export class Runtime {
  readonly #options: RuntimeOptions;
  readonly #store: Store;
  readonly #committer: Committer;
  #gen: Generation;
  /** Set while a reload swaps generations, or workers join: commands wait for it. */
  #gate: Promise<void> | undefined;
  /** Reloads and the workers' growth run one after the other: the tail of that queue. */
  #serialTail: Promise<unknown> = Promise.resolve();
  readonly #routeListeners: ((routes: readonly RouteEntry[]) => void)[] = [];
  /** Per entity: the commit the next reply must wait for (read-your-writes with pipelining). */
  readonly #lastCommit = new Map<string, Promise<unknown>>();
  readonly #metrics = new Metrics();
  readonly #builder: ViewBuilder;
  /** Replies of pure commands (docs/host.md "Reply cache"); undefined when turned off. */
  readonly #replies: ReplyCache | undefined;
  /** "component.command" of the pure commands of the current generation. */
  #pure: ReadonlySet<string>;
  /** Per entity: commands sent to its worker and not answered yet (their writes may be in its state already). */
  readonly #inFlight = new Map<string, number>();
  /** #holdCommands() waiting for #inFlight to empty. */
  #quietWaiters: (() => void)[] = [];

  private constructor(options: RuntimeOptions, store: Store, gen: Generation) {
    this.#options = options;
    this.#store = store;
    this.#gen = gen;
    this.#pure = pureCommands(gen.manifest);
    const replyBytes = options.replyCacheBytes ?? 0;
    this.#replies = replyBytes > 0 ? new ReplyCache(replyBytes) : undefined;
    const replies = this.#replies;
    if (replies !== undefined) this.#metrics.addCache("reply", "Calls of pure commands", () => replies.stats());
    this.#builder = new ViewBuilder(store, (table, states, events, ids) => this.#gen.pool.rows(table, states, events, ids), options.log);
    const hook: CommitHook = {
      apply: (txn, write: EntityWrite) => {
        if (!write.views || write.views.length === 0) return undefined;
        const views = this.#gen.views;
        const deltas: RowDelta[] = [];
        for (const change of write.views) {
          const view = views.get(change.table);
          if (!view) throw new Error(`no view table '${change.table}'`);
          // While a rebuild drops the old table, its scan will write this row.
          if (this.#builder.skipsMaintenance(change.table)) continue;
          deltas.push(view.applyRowChange(txn, change.pk, change.row));
        }
        return deltas;
      },
    };
    this.#committer = new Committer(store, {
      durability: options.durability, batchMax: options.commitBatchMax, queueMax: options.commitQueueMax, hook,
    });
    this.#committer.start();
    const committer = this.#committer;
    this.#metrics.setCommitter(() => committer.stats());
    this.#metrics.setWorkers(() => ({ serving: this.#gen.pool.size, joining: this.#gen.pool.joining }));
  }

  get manifest(): Manifest {
    return this.#gen.manifest;
  }

  /** @internal Tests: whether new commands are being held (a reload or the workers' growth is switching over). */
  get gated(): boolean {
    return this.#gate !== undefined;
  }

  /** @internal Tests: whether the workers' watchdog timer is set (only while they have work). */
  get watching(): boolean {
    return this.#gen.pool.watching;
  }

  /** @internal Tests: resolves once the workers' watchdog has cleared its timer. */
  whenUnwatched(): Promise<void> {
    return this.#gen.pool.whenUnwatched();
  }

  /** Loads the project in the workers, compiles its views, opens the store. Rejects with ProjectError on a bad project. */
  static async start(options: RuntimeOptions): Promise<Runtime> {
    // The store opens first: workers read entity state from it.
    const store = openLmdbStore({ path: options.dataDir, durability: options.durability });
    try {
      let runtime: Runtime | undefined;
      // Endpoints' calls arrive once the runtime exists (no request is served before).
      const gen = await loadGeneration(options, (m) => {
        if (!runtime) return Promise.reject(new HostError("ERR_STOPPING", "the runtime is not started"));
        return runtime.handleCall(m);
      }, options.workersAtStart);
      runtime = new Runtime(options, store, gen);
      runtime.#builder.ensure(runtime.#viewList());
      return runtime;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /**
   * Hot reload: the workers load the new version beside the running one
   * (a new pool only when a worker is being replaced), in-flight commands
   * finish and commit, then the new version takes over; new or changed views
   * start rebuilding. On a compile or validation error the old version keeps
   * serving and the error is thrown.
   */
  reload(): Promise<{ ms: number }> {
    return this.#serially(() => this.#reload());
  }

  async #reload(): Promise<{ ms: number }> {
    const started = performance.now();
    const pool = this.#gen.pool;
    let manifest: Manifest;
    try {
      manifest = await pool.prepare();
    } catch (error) {
      if (error instanceof ProjectError) throw error;
      return this.#reloadWithNewPool(started);
    }
    let views: CompiledViews;
    try {
      views = compileViewsCached(manifest, ViewSqlCache.open(this.#options.dataDir));
    } catch (error) {
      pool.discard();
      throw error;
    }
    await this.#swap(async () => {
      pool.activate(manifest);
      return { pool, manifest, views: views.byTable, viewsByName: views.byName };
    });
    return { ms: Math.round(performance.now() - started) };
  }

  /** Reload on fresh worker threads (when a worker is restarting and cannot prepare in place). */
  async #reloadWithNewPool(started: number): Promise<{ ms: number }> {
    const next = await loadGeneration(this.#options, (m) => this.handleCall(m));
    const old = this.#gen.pool;
    await this.#swap(async () => next);
    void old.stop();
    return { ms: Math.round(performance.now() - started) };
  }

  /**
   * Starts the workers start() left out (`workersAtStart`) and, once all of
   * them have loaded the project, routes entities over every worker — behind
   * the gate, like a reload: new commands wait while the ones in flight
   * finish and commit, since an entity may move to another worker, which
   * reads its state from the store. When one fails to load it is logged and
   * the workers already serving go on alone. Resolves with how many joined.
   */
  startRemainingWorkers(): Promise<number> {
    // Joining workers load the running version: a reload must not switch it under them.
    return this.#serially(async () => {
      const pool = this.#gen.pool;
      if (pool.missing === 0) {
        startupTrace(allServing(pool.size));
        return 0;
      }
      const started = performance.now();
      try {
        if ((await pool.grow()) === 0) return 0;
      } catch (error) {
        const problems = error instanceof ProjectError ? error.problems.map((p) => p.message).join("; ") : (error as Error).message;
        this.#options.log("error", `a worker starting after the first ones failed to load the project (${problems}); serving on ${pool.size} worker(s)`, { workers: pool.size });
        return 0;
      }
      let joined = 0;
      if (this.#gen.pool === pool) await this.#holdCommands(() => { joined = pool.admit(); });
      if (joined > 0) {
        const ms = Math.round(performance.now() - started);
        this.#options.log("info", `${pool.size} workers serving (${joined} joined ${ms} ms after the first)`, { workers: pool.size, joinedAfterMs: ms });
        startupTrace(allServing(pool.size));
      }
      return joined;
    });
  }

  /** Runs `fn` after every reload or growth queued before it has finished. */
  #serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serialTail.then(fn, fn);
    this.#serialTail = run.catch(() => undefined);
    return run;
  }

  /** Holds new commands, lets in-flight ones finish and commit, runs `fn`, then lets commands in again. */
  async #holdCommands(fn: () => Promise<void> | void): Promise<void> {
    let open!: () => void;
    this.#gate = new Promise<void>((resolve) => { open = resolve; });
    try {
      // A worker's answer reaches its command's continuation only after the
      // pool counts it done, so the pool being drained is not enough: wait
      // until every answered command has also submitted its write, then for
      // those writes to commit.
      for (;;) {
        await this.#gen.pool.drain();
        if (this.#inFlight.size === 0) break;
        await new Promise<void>((resolve) => this.#quietWaiters.push(resolve));
      }
      await Promise.allSettled([...this.#lastCommit.values()]);
      await fn();
    } finally {
      this.#gate = undefined;
      open();
    }
  }

  /** Holds new commands, lets in-flight ones finish and commit, then switches generation. */
  async #swap(next: () => Promise<Generation>): Promise<void> {
    await this.#holdCommands(async () => {
      this.#gen = await next();
      this.#pure = pureCommands(this.#gen.manifest);
      this.#replies?.clear();
      // New or changed views start rebuilding before any new command runs.
      this.#builder.ensure(this.#viewList());
      for (const listener of this.#routeListeners) listener(this.routes());
    });
  }

  /**
   * Sees each commit that changed view rows twice, in commit order: `prepare`
   * inside its transaction, before it is durable (its row changes, and reads
   * that see the commit), then `settle` once it is durable (true) or failed
   * and was rolled back (false). Live queries do their fan-out in `prepare`
   * while the disk syncs and release it in `settle`.
   */
  onCommit(listener: CommitListener): () => void {
    let prepared = false;
    return this.#committer.observe({
      applied: (batch, txn) => {
        const deltas: RowDelta[] = [];
        for (const item of batch) {
          if (Array.isArray(item.hookResult)) deltas.push(...(item.hookResult as RowDelta[]));
        }
        if (deltas.length === 0) return;
        prepared = true;
        listener.prepare(deltas, txn);
      },
      settled: (durable) => {
        if (!prepared) return;
        prepared = false;
        listener.settle(durable);
      },
    });
  }

  /** The compiled view with this name (live queries plan against it). */
  view(name: string): CompiledView | undefined {
    return this.#gen.viewsByName.get(name);
  }

  /** Runs fn on one consistent snapshot of the store. */
  read<T>(fn: (txn: ReadTxn) => T): T {
    return this.#store.read(fn);
  }

  /** @internal Test-only: the next commit fails as if the disk had failed (nothing of it is written). */
  failNextCommit(error: Error): void {
    (this.#store as Store & Partial<FaultInjection>).failNextCommit?.(error);
  }

  /** @internal An endpoint's call to a command or query, from a worker. */
  handleCall(m: Extract<FromWorker, { t: "call" } | { t: "query" }>): Promise<unknown> {
    if (m.t === "call") return this.#command(m.component, m.command, m.id, m.body, undefined);
    try {
      return Promise.resolve(this.query(m.view, m.query, m.params).rows);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Called with the new routes after a reload. */
  onRoutesChanged(listener: (routes: readonly RouteEntry[]) => void): void {
    this.#routeListeners.push(listener);
  }

  routes(): readonly RouteEntry[] {
    const out: RouteEntry[] = [];
    for (const e of this.#gen.manifest.entities) {
      for (const c of e.commands) {
        const r = c.http ? parseRoute(c.http) : undefined;
        if (r && c.key) out.push({ method: r.method, path: r.path, target: { kind: "command", component: e.name, command: c.name, key: c.key } });
      }
    }
    for (const ep of this.#gen.manifest.endpoints) {
      for (const route of ep.routes) {
        const r = parseRoute(route);
        if (r) out.push({ method: r.method, path: r.path, target: { kind: "endpoint", endpoint: ep.name, route } });
      }
    }
    for (const v of this.#gen.manifest.views) {
      for (const q of v.queries) {
        const r = q.http ? parseRoute(q.http) : undefined;
        if (r) out.push({ method: r.method, path: r.path, target: { kind: "query", view: v.name, query: q.name } });
      }
    }
    return out;
  }

  /**
   * The JSON of a kept reply to a pure command called without a body, when
   * `command` would give it at once (the same rules); undefined otherwise —
   * then call `command`. Lets the HTTP layer answer in the request's own
   * callback, with no promise and no serialization.
   */
  cachedReplyJson(component: string, command: string, id: string): string | undefined {
    if (this.#replies === undefined || this.#gate || id === "" || !this.#pure.has(`${component}.${command}`)) return undefined;
    const key = `${component}\u0000${id}`;
    if (!this.#keptRepliesApply(key)) return undefined;
    const json = this.#replies.hitJson(key, command);
    if (json !== undefined) this.#metrics.command(component, command, "ok");
    return json;
  }

  /**
   * Whether a call to this entity may be answered from (or filed in) the
   * reply cache: only when nothing sent to it is unanswered or uncommitted,
   * so that a kept reply reflects durable state only (docs/host.md "Reply cache").
   */
  #keptRepliesApply(key: string): boolean {
    return !this.#lastCommit.has(key) && !this.#inFlight.has(key);
  }

  /** Runs a command; resolves with its reply once its write (if any) is durable. */
  command(component: string, command: string, id: string, body: unknown, request: RequestData | undefined): Promise<unknown> {
    // Not async itself: an async wrapper would cost every command one more promise and its ticks.
    const gate = this.#gate;
    if (gate) return gate.then(() => this.#command(component, command, id, body, request));
    return this.#command(component, command, id, body, request);
  }

  /**
   * command() past the gate. An endpoint's calls come straight here: the
   * endpoint is work in flight that a raised gate is waiting for, so its
   * calls must not wait for the gate in turn (they would hold it up until
   * the endpoint timed out).
   */
  async #command(component: string, command: string, id: string, body: unknown, request: RequestData | undefined): Promise<unknown> {
    if (id === "") throw new HostError("ERR_BAD_REQUEST", "the entity id is empty");
    const key = `${component}\u0000${id}`;
    // A pure command's reply, kept until the entity is written.
    let slot: ReplySlot | undefined;
    const pure = this.#replies !== undefined && this.#pure.has(`${component}.${command}`);
    if (pure && this.#replies !== undefined && this.#keptRepliesApply(key)) {
      slot = this.#replies.lookup(key, command, body);
      if (slot?.filled === true) {
        this.#metrics.command(component, command, "ok");
        return slot.value;
      }
    }
    let outcome;
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    try {
      outcome = await this.#gen.pool.call(component, id, command, body, request);
    } catch (error) {
      if (slot !== undefined) this.#replies?.abandon(slot);
      this.#metrics.command(component, command, errorCode(error));
      throw error;
    } finally {
      const n = (this.#inFlight.get(key) ?? 1) - 1;
      if (n > 0) this.#inFlight.set(key, n);
      else {
        this.#inFlight.delete(key);
        // Resolved now, the waiters go on after this turn's code below has submitted the write.
        if (this.#inFlight.size === 0 && this.#quietWaiters.length > 0) for (const w of this.#quietWaiters.splice(0)) w();
      }
    }
    if (!outcome.write) {
      if (slot !== undefined) this.#replies?.fill(slot, outcome.value);
      // Read-your-writes: never reply before the writes this reply saw are
      // durable — and not at all if one of them failed: the reply was
      // computed on state that was never stored (the commit's error says why).
      const before = this.#lastCommit.get(key);
      if (before) {
        try {
          await before;
        } catch (error) {
          this.#metrics.command(component, command, errorCode(error));
          throw error;
        }
      }
      this.#metrics.command(component, command, "ok");
      return outcome.value;
    }
    // What was kept for this entity is older than this write (before its commit: see reply-cache.ts).
    this.#replies?.dropEntity(key);
    if (pure) this.#warnImpure(component, command);
    const commit = this.#committer.submit(outcome.write);
    this.#lastCommit.set(key, commit);
    try {
      await commit;
      this.#metrics.command(component, command, "ok");
      return outcome.value;
    } catch (error) {
      // The worker computed later commands on state that is not stored: it must reload.
      this.#gen.pool.invalidate(component, id);
      this.#replies?.dropEntity(key);
      this.#metrics.command(component, command, errorCode(error));
      throw error;
    } finally {
      if (this.#lastCommit.get(key) === commit) this.#lastCommit.delete(key);
    }
  }

  readonly #warnedImpure = new Set<string>();

  #warnImpure(component: string, command: string): void {
    const name = `${component}.${command}`;
    if (this.#warnedImpure.has(name)) return;
    this.#warnedImpure.add(name);
    this.#options.log("warn", `${name} is declared pure but wrote the entity (the write is kept): a pure command must not write; remove pure: true`, { component, command });
  }

  /** Runs an endpoint route on a worker; resolves with its JSON response. */
  async endpoint(name: string, route: string, request: EndpointRequestData): Promise<unknown> {
    if (this.#gate) await this.#gate;
    const ep = this.#gen.manifest.endpoints.find((e) => e.name === name);
    return this.#gen.pool.endpoint(name, route, request, ep?.timeoutMs);
  }

  /** Runs a view query on one snapshot, with HTTP-style string parameters. */
  query(viewName: string, queryName: string, raw: Record<string, string>): { shape: "list" | "single"; rows: Record<string, unknown>[] } {
    const view = this.#gen.viewsByName.get(viewName);
    const query = view?.queries[queryName];
    if (!view || !query) throw new HostError("ERR_UNKNOWN_COMMAND", `no query '${queryName}' on view '${viewName}'`);
    const building = this.#builder.building(view.table);
    if (building) {
      const pct = building.total > 0 ? Math.floor((100 * building.done) / building.total) : 0;
      throw new HostError("ERR_VIEW_BUILDING", `view '${viewName}' is being built (${building.done} of ${building.total} rows, ${pct}%); retry shortly`, { retryAfterMs: 1000 });
    }
    const params = query.coerceParams(raw);
    const rows = this.#store.read((txn) => Array.from(query.execute(txn, params)));
    this.#metrics.query(viewName, queryName);
    // "page" and "count" queries produce one object, like "single".
    return { shape: query.resultShape === "list" ? "list" : "single", rows };
  }

  /** Every view with its build status, for GET /_calyx/views. */
  viewStatus(): { view: string; table: string; from: string; status: "ready" | "building"; done: number; total: number }[] {
    return this.#gen.manifest.views.map((v) => {
      const b = this.#builder.building(v.table);
      return { view: v.name, table: v.table, from: v.from, status: b ? "building" : "ready", done: b?.done ?? 0, total: b?.total ?? 0 };
    });
  }

  /** Resolves when running view builds are done (tests). */
  viewsSettled(): Promise<void> {
    return this.#builder.settled();
  }

  #viewList(): { compiled: CompiledView; manifest: ViewManifest }[] {
    return this.#gen.manifest.views.flatMap((m) => {
      const compiled = this.#gen.viewsByName.get(m.name);
      return compiled ? [{ compiled, manifest: m }] : [];
    });
  }

  /** Has a worker answer a list query over HTTP: the response body, or null (answer it on this thread). See worker-queries.ts. */
  offloadQuery(view: string, query: string, params: Record<string, string>, ndjson: boolean, chunkRows: number): Promise<string | null> {
    return this.#gen.pool.viewQuery(view, query, params, ndjson, chunkRows).then((text) => {
      this.#metrics.offload(text !== null);
      return text;
    });
  }

  /** Counts a query answered outside query() (a streamed HTTP response), for /_calyx/metrics. */
  countQuery(viewName: string, queryName: string): void {
    this.#metrics.query(viewName, queryName);
  }

  /** Reports a cache in /_calyx/metrics as calyx_<name>_cache_*. */
  addCacheMetrics(name: string, what: string, stats: () => CacheStats): void {
    this.#metrics.addCache(name, what, stats);
  }

  /** Prometheus text for /_calyx/metrics. */
  metrics(): string {
    return this.#metrics.render();
  }

  /** Stops the workers, commits what is queued, closes the store. */
  async stop(): Promise<void> {
    await this.#builder.stop();
    await this.#gen.pool.stop();
    await this.#committer.stop();
    await this.#store.close();
  }
}

async function loadGeneration(options: RuntimeOptions, onCall: PoolOptions["onCall"], initialWorkers?: number): Promise<Generation> {
  const pool = new WorkerPool({
    projectDir: options.projectDir, dataDir: options.dataDir, workers: options.workers, handlerTimeoutMs: options.handlerTimeoutMs,
    queueMax: options.workerQueueMax, workerHeapMb: options.workerHeapMb, log: options.log, onCall,
  });
  // Read while the workers boot: the views' parses of the last start.
  const sqlCache = ViewSqlCache.open(options.dataDir);
  sqlCache.seed();
  const manifest = await pool.start(initialWorkers);
  try {
    const queries = manifest.views.flatMap((v) => v.queries.map((q) => ({ table: v.table, sql: q.sql })));
    const known = queries.filter((q) => knownParse(q.table, q.sql) !== undefined).length;
    const views = compileViewsCached(manifest, sqlCache);
    startupTrace(`views compiled (${queries.length} queries, ${known} already parsed)`);
    return { pool, manifest, views: views.byTable, viewsByName: views.byName };
  } catch (error) {
    await pool.stop();
    throw error;
  }
}

export { compileViews, type CompiledViews } from "./compile-views.js";

/** compileViews, then the view SQL cache keeps the parses of exactly these views for the next start. */
function compileViewsCached(manifest: Manifest, cache: ViewSqlCache): CompiledViews {
  const views = compileViews(manifest);
  cache.store(manifest.views);
  return views;
}

/** The trace line of every worker serving (bench/scenarios/startup.ts reads it). */
function allServing(workers: number): string {
  return `all ${workers} worker${workers === 1 ? "" : "s"} serving`;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "ERR_INTERNAL";
}

/** "component.command" of every command declared `pure: true`. */
function pureCommands(manifest: Manifest): Set<string> {
  const out = new Set<string>();
  for (const e of manifest.entities) for (const c of e.commands) if (c.pure === true) out.add(`${e.name}.${c.name}`);
  return out;
}
