// View queries answered in a worker thread. The main thread owns HTTP and the
// committer; a plain list query (JSON array or NDJSON, the common by-name /
// by-field lookup) costs it tens of microseconds of LMDB reads, msgpack
// decoding and JSON encoding, so it hands the query to a worker and writes the
// text the worker returns. The worker compiles the views itself (same SQL,
// same plans) and reads the same LMDB environment. Whatever it cannot answer
// at once — views not compiled yet, a result larger than one chunk, any error
// (bad parameters, too many rows) — it declines (null), and the main thread
// runs the query itself as before, with its streaming and its error answers.
// Read-your-writes: the worker starts a fresh read snapshot for each query, so
// a query sent after a write's reply sees that write (docs/host.md).
import type { Manifest } from "./messages.js";
import type { ReadTxn } from "../storage/store.js";
import type * as EngineModule from "./worker-query-engine.js";

type Engine = typeof EngineModule;
type CompiledViews = ReturnType<Engine["compileViews"]>;

export interface QuerySource {
  /** Runs fn on a snapshot taken now (not an older one kept by the thread). */
  readFresh<T>(fn: (txn: ReadTxn) => T): T;
}

export class WorkerQueries {
  readonly #manifest: Manifest;
  readonly #source: QuerySource;
  #engine: Engine | undefined;
  #views: CompiledViews | undefined;
  #loading = false;

  constructor(manifest: Manifest, source: QuerySource) {
    this.#manifest = manifest;
    this.#source = source;
  }

  /** Loads the query engine and compiles the views in the background (once); until then, queries are declined. */
  warm(): void {
    if (this.#loading || this.#manifest.views.length === 0) return;
    this.#loading = true;
    import("./worker-query-engine.js").then((engine) => {
      this.#views = engine.compileViews(this.#manifest);
      this.#engine = engine;
    }, () => undefined);
  }

  get ready(): boolean {
    return this.#engine !== undefined;
  }

  /** The response body of a list query, or null: the main thread answers it instead. */
  run(viewName: string, queryName: string, params: Record<string, string>, ndjson: boolean, chunkRows: number): string | null {
    const engine = this.#engine;
    const view = this.#views?.byName.get(viewName);
    if (engine === undefined || view === undefined || !Object.hasOwn(view.queries, queryName)) return null;
    const query = view.queries[queryName];
    if (query === undefined || query.resultShape !== "list") return null;
    try {
      return this.#source.readFresh((txn) => {
        const shape = engine.liveShape(view, query);
        const chunks = new engine.QueryChunks((fn) => fn(txn), shape, query.coerceParams(params));
        const rows = chunks.next(chunkRows);
        if (!chunks.done) return null;
        return engine.encodeRows(rows, ndjson);
      });
    } catch {
      return null;
    }
  }
}
