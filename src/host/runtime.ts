// The runtime: one store, one committer, the compiled views and a worker pool,
// wired together and served to src/http as a Service. A command runs on its
// entity's worker; its write (state, journal, view rows) is group-committed;
// its reply is released once that commit is durable.
import { compileView, type CompiledView } from "../query/compile-view.js";
import { Committer } from "../storage/committer.js";
import { openLmdbStore, type Store } from "../storage/lmdb-store.js";
import type { CommitHook, Durability, EntityWrite } from "../storage/store.js";
import { HostError, ProjectError } from "./errors.js";
import type { LogFn } from "./logger.js";
import type { Manifest, RequestData } from "./messages.js";
import { parseRoute } from "./discovery.js";
import { WorkerPool } from "./worker-pool.js";
import { Metrics } from "./metrics.js";

export interface RuntimeOptions {
  readonly projectDir: string;
  readonly dataDir: string;
  readonly workers: number;
  readonly durability: Durability;
  readonly handlerTimeoutMs: number;
  readonly workerHeapMb: number;
  /** Commands queued per worker before 503. */
  readonly workerQueueMax: number;
  /** Writes waiting for the committer before 503. */
  readonly commitQueueMax: number;
  /** Writes in one transaction at most. */
  readonly commitBatchMax: number;
  readonly log: LogFn;
}

export const RUNTIME_DEFAULTS = {
  durability: "full" as Durability,
  handlerTimeoutMs: 5_000,
  workerHeapMb: 256,
  workerQueueMax: 10_000,
  commitQueueMax: 50_000,
  commitBatchMax: 1_024,
};

export interface RouteEntry {
  readonly method: string;
  readonly path: string;
  readonly target:
    | { readonly kind: "command"; readonly component: string; readonly command: string; readonly key: string }
    | { readonly kind: "query"; readonly view: string; readonly query: string };
}

export class Runtime {
  readonly manifest: Manifest;
  readonly #options: RuntimeOptions;
  readonly #store: Store;
  readonly #committer: Committer;
  readonly #pool: WorkerPool;
  readonly #views: ReadonlyMap<string, CompiledView>;
  readonly #viewsByName: ReadonlyMap<string, CompiledView>;
  /** Per entity: the commit the next reply must wait for (read-your-writes with pipelining). */
  readonly #lastCommit = new Map<string, Promise<unknown>>();
  readonly #metrics = new Metrics();

  private constructor(options: RuntimeOptions, store: Store, committer: Committer, pool: WorkerPool, manifest: Manifest,
    views: Map<string, CompiledView>, viewsByName: Map<string, CompiledView>) {
    this.#options = options;
    this.#store = store;
    this.#committer = committer;
    this.#pool = pool;
    this.manifest = manifest;
    this.#views = views;
    this.#viewsByName = viewsByName;
  }

  /** Loads the project in the workers, compiles its views, opens the store. Rejects with ProjectError on a bad project. */
  static async start(options: RuntimeOptions): Promise<Runtime> {
    const pool = new WorkerPool({
      projectDir: options.projectDir, dataDir: options.dataDir, workers: options.workers, handlerTimeoutMs: options.handlerTimeoutMs,
      queueMax: options.workerQueueMax, workerHeapMb: options.workerHeapMb, log: options.log,
    });
    // The store opens first: workers read entity state from it.
    const store = openLmdbStore({ path: options.dataDir, durability: options.durability });
    let manifest: Manifest;
    try {
      manifest = await pool.start();
    } catch (error) {
      await store.close();
      throw error;
    }
    const views = new Map<string, CompiledView>();
    const viewsByName = new Map<string, CompiledView>();
    const problems: ProjectError["problems"][number][] = [];
    for (const v of manifest.views) {
      try {
        const compiled = compileView({
          name: v.name, table: v.table,
          queries: Object.fromEntries(v.queries.map((q) => [q.name, { sql: q.sql, ...(q.http ? { http: q.http } : {}), ...(q.maxRows ? { maxRows: q.maxRows } : {}) }])),
        });
        views.set(v.table, compiled);
        viewsByName.set(v.name, compiled);
      } catch (error) {
        const e = error as { message?: string; position?: { line: number; column: number } };
        problems.push({ code: "ERR_VIEW_SQL", file: v.file, line: e.position?.line, column: e.position?.column, frame: undefined,
          message: `${v.file}: ${e.message ?? String(error)}` });
      }
    }
    if (problems.length > 0) {
      await pool.stop();
      await store.close();
      throw new ProjectError(problems);
    }
    const hook: CommitHook = {
      apply(txn, write: EntityWrite) {
        if (!write.views) return undefined;
        return write.views.map((change) => {
          const view = views.get(change.table);
          if (!view) throw new Error(`no view table '${change.table}'`);
          return view.applyRowChange(txn, change.pk, change.row);
        });
      },
    };
    const committer = new Committer(store, {
      durability: options.durability, batchMax: options.commitBatchMax, queueMax: options.commitQueueMax, hook,
    });
    committer.start();
    return new Runtime(options, store, committer, pool, manifest, views, viewsByName);
  }

  routes(): readonly RouteEntry[] {
    const out: RouteEntry[] = [];
    for (const e of this.manifest.entities) {
      for (const c of e.commands) {
        const r = c.http ? parseRoute(c.http) : undefined;
        if (r && c.key) out.push({ method: r.method, path: r.path, target: { kind: "command", component: e.name, command: c.name, key: c.key } });
      }
    }
    for (const v of this.manifest.views) {
      for (const q of v.queries) {
        const r = q.http ? parseRoute(q.http) : undefined;
        if (r) out.push({ method: r.method, path: r.path, target: { kind: "query", view: v.name, query: q.name } });
      }
    }
    return out;
  }

  /** Runs a command; resolves with its reply once its write (if any) is durable. */
  async command(component: string, command: string, id: string, body: unknown, request: RequestData | undefined): Promise<unknown> {
    if (id === "") throw new HostError("ERR_BAD_REQUEST", "the entity id is empty");
    const key = `${component}\u0000${id}`;
    let outcome;
    try {
      outcome = await this.#pool.call(component, id, command, body, request);
    } catch (error) {
      this.#metrics.command(component, command, errorCode(error));
      throw error;
    }
    if (!outcome.write) {
      // Read-your-writes: never reply before the writes this reply saw are durable.
      const before = this.#lastCommit.get(key);
      if (before) await before.catch(() => undefined);
      this.#metrics.command(component, command, "ok");
      return outcome.value;
    }
    const commit = this.#committer.submit(outcome.write);
    this.#lastCommit.set(key, commit);
    try {
      await commit;
      this.#metrics.command(component, command, "ok");
      return outcome.value;
    } catch (error) {
      // The worker computed later commands on state that is not stored: it must reload.
      this.#pool.invalidate(component, id);
      this.#metrics.command(component, command, errorCode(error));
      throw error;
    } finally {
      if (this.#lastCommit.get(key) === commit) this.#lastCommit.delete(key);
    }
  }

  /** Runs a view query on one snapshot, with HTTP-style string parameters. */
  query(viewName: string, queryName: string, raw: Record<string, string>): { shape: "list" | "single"; rows: Record<string, unknown>[] } {
    const view = this.#viewsByName.get(viewName);
    const query = view?.queries[queryName];
    if (!view || !query) throw new HostError("ERR_UNKNOWN_COMMAND", `no query '${queryName}' on view '${viewName}'`);
    const params = query.coerceParams(raw);
    const rows = this.#store.read((txn) => Array.from(query.execute(txn, params)));
    this.#metrics.query(viewName, queryName);
    return { shape: query.resultShape === "single" ? "single" : "list", rows };
  }

  /** Prometheus text for /_calyx/metrics. */
  metrics(): string {
    return this.#metrics.render();
  }

  /** Stops the workers, commits what is queued, closes the store. */
  async stop(): Promise<void> {
    await this.#pool.stop();
    await this.#committer.stop();
    await this.#store.close();
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "ERR_INTERNAL";
}
