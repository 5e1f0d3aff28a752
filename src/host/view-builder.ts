// Builds a view's table from stored state when the view is new or its
// definition changed (indexes, source, updater), in the background while the
// service serves. Progress is kept in meta/["view", table] in the same
// transaction as the rows it wrote, so a build interrupted by a crash resumes.
//
// Consistency with live writes (which keep maintaining the view through the
// commit hook): (1) drop: rows and index entries of the table go, in chunks;
// meanwhile the hook skips the table (see `skipsMaintenance`), since the scan
// that follows recomputes every entity anyway. (2) scan: the source entity's
// states are read in id order in chunks; a worker computes their rows; each
// row is written only if the entity's sequence is still the one read — a
// live write in between already wrote the newer row.
import { decodeKey, encodeKey, encodeKeyPrefix, prefixEnd } from "../storage/key-codec.js";
import { stateKey } from "../storage/layout.js";
import type { DbName, Store, StoredState } from "../storage/store.js";
import type { CompiledView } from "../query/types.js";
import type { ViewManifest } from "./messages.js";
import type { LogFn } from "./logger.js";

/** meta/["view", table]: what the stored table was built for, and how far a build got. */
export interface ViewMeta {
  readonly signature: string;
  readonly status: "building" | "ready";
  /** Index ids whose entries may exist in the store (to drop them later). */
  readonly indexIds: readonly string[];
  readonly dropped: boolean;
  /** Last entity id written by the scan (exclusive resume point), or null. */
  readonly cursor: string | null;
  readonly done: number;
}

export interface BuildStatus {
  readonly view: string;
  readonly table: string;
  readonly status: "ready" | "building";
  readonly done: number;
  readonly total: number;
}

/** Computes a table's rows on a worker: from states, or (event-updated views) from each entity's events. */
export type RowsFn = (table: string, states: readonly unknown[], events: readonly (readonly { type: string; payload: unknown }[])[] | undefined,
  ids: readonly string[]) => Promise<(Record<string, unknown> | null)[]>;

const CHUNK_ROWS = 500;
const PROGRESS_EVERY_MS = 1_000;
const DROP_CHUNK_KEYS = 5_000;

export function viewSignature(view: CompiledView, manifest: ViewManifest): string {
  return JSON.stringify({ indexes: view.indexes.map((i) => i.id), from: manifest.from, updater: manifest.updaterHash });
}

function metaKey(table: string): Buffer {
  return encodeKey(["view", table]);
}

export class ViewBuilder {
  readonly #store: Store;
  readonly #rows: RowsFn;
  readonly #log: LogFn;
  readonly #pendingMeta: Promise<void>[] = [];
  readonly #builds = new Map<string, { status: BuildStatus; dropping: boolean; cancelled: boolean; done: Promise<void> }>();

  /** `rows` computes a table's rows for states on a worker (the view's updater is user code). */
  constructor(store: Store, rows: RowsFn, log: LogFn) {
    this.#store = store;
    this.#rows = rows;
    this.#log = log;
  }

  /** Starts a build for every view whose stored table does not match its definition; returns at once. */
  ensure(views: readonly { compiled: CompiledView; manifest: ViewManifest }[]): void {
    for (const { compiled, manifest } of views) {
      const signature = viewSignature(compiled, manifest);
      const meta = this.#store.read((txn) => txn.get("meta", metaKey(compiled.table)) as ViewMeta | undefined);
      const running = this.#builds.get(compiled.table);
      if (meta?.signature === signature && meta.status === "ready" && !running) continue;
      if (running && meta?.signature === signature) continue;
      if (running) running.cancelled = true;
      this.#start(compiled, manifest, signature, meta);
    }
  }

  /** True while the view's old rows are being dropped: the commit hook must not maintain it then. */
  skipsMaintenance(table: string): boolean {
    return this.#builds.get(table)?.dropping === true;
  }

  /** The build status of a table, or undefined when it is ready. */
  building(table: string): BuildStatus | undefined {
    return this.#builds.get(table)?.status;
  }

  statuses(): BuildStatus[] {
    return [...this.#builds.values()].map((b) => b.status);
  }

  /** Resolves when every running build has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#builds.values()].map((b) => b.done));
    await Promise.allSettled(this.#pendingMeta.splice(0));
  }

  /** Stops running builds at their next chunk; they resume from their cursor next time. */
  async stop(): Promise<void> {
    for (const b of this.#builds.values()) b.cancelled = true;
    await this.settled();
  }

  #start(view: CompiledView, manifest: ViewManifest, signature: string, meta: ViewMeta | undefined): void {
    const table = view.table;
    const resuming = meta?.signature === signature && meta.status === "building";
    const total = this.#count(manifest.from);
    if (meta === undefined && total === 0) {
      // A new view over an entity with no data yet (a new project): nothing to build or drop.
      const ready: ViewMeta = { signature, status: "ready", indexIds: view.indexes.map((i) => i.id), dropped: true, cursor: null, done: 0 };
      this.#pendingMeta.push(this.#store.write((txn) => { txn.put("meta", metaKey(table), ready); }));
      return;
    }
    const entry = {
      status: { view: manifest.name, table, status: "building" as const, done: resuming ? meta.done : 0, total },
      dropping: !(resuming && meta.dropped),
      cancelled: false,
      done: Promise.resolve(),
    };
    this.#builds.set(table, entry);
    const started = performance.now();
    this.#log("info", `view '${manifest.name}': ${resuming ? "resuming the build" : "building"} from ${total} stored '${manifest.from}' entities`, { view: manifest.name });
    entry.done = this.#run(view, manifest, signature, meta, resuming, entry).then(
      () => {
        if (entry.cancelled) return;
        this.#builds.delete(table);
        this.#log("info", `view '${manifest.name}' is ready (${entry.status.done} rows in ${Math.round(performance.now() - started)} ms)`, { view: manifest.name });
      },
      (error: unknown) => {
        this.#log("error", `view '${manifest.name}': the build failed and will be retried at the next start: ${(error as Error).message}`, { view: manifest.name, stack: (error as Error).stack });
      },
    );
  }

  async #run(view: CompiledView, manifest: ViewManifest, signature: string, meta: ViewMeta | undefined, resuming: boolean,
    entry: { status: BuildStatus; dropping: boolean; cancelled: boolean }): Promise<void> {
    const table = view.table;
    const newIds = view.indexes.map((i) => i.id);
    let state: ViewMeta = resuming && meta ? meta : {
      signature, status: "building", dropped: false, cursor: null, done: 0,
      indexIds: [...new Set([...(meta?.indexIds ?? []), ...newIds])],
    };
    await this.#store.write((txn) => { txn.put("meta", metaKey(table), state); });
    if (!state.dropped) {
      const prefixes = [encodeKeyPrefix([table]), ...state.indexIds.map((id) => encodeKeyPrefix([id]))];
      for (let i = 0; i < prefixes.length; i++) {
        const start = prefixes[i] as Buffer;
        const db: DbName = i === 0 ? "rows" : "index";
        for (;;) {
          if (entry.cancelled) return;
          const removed = await this.#store.write((txn) => {
            let n = 0;
            for (const { key } of txn.range(db, { start, end: prefixEnd(start), limit: DROP_CHUNK_KEYS })) {
              txn.remove(db, key);
              n++;
            }
            return n;
          });
          if (removed < DROP_CHUNK_KEYS) break;
        }
      }
      state = { ...state, dropped: true, indexIds: newIds };
      await this.#store.write((txn) => { txn.put("meta", metaKey(table), state); });
    }
    entry.dropping = false;
    const prefix = encodeKeyPrefix([manifest.from]);
    for (;;) {
      if (entry.cancelled) return;
      const startKey = state.cursor === null ? prefix : Buffer.concat([stateKey(manifest.from, state.cursor), Buffer.from([0])]);
      const chunk = this.#store.read((txn) => {
        const out: { id: string; seq: number; state: unknown }[] = [];
        for (const { key, value } of txn.range("state", { start: startKey, end: prefixEnd(prefix), limit: CHUNK_ROWS })) {
          const stored = value as StoredState;
          out.push({ id: String(decodeKey(key)[1]), seq: stored.seq, state: stored.deleted ? null : stored.state });
        }
        return out;
      });
      if (chunk.length === 0) break;
      // Event-updated views fold each entity's journal from the start.
      const events = manifest.updaterKind === "events"
        ? chunk.map((c) => this.#store.replayEntity(manifest.from, c.id, 1, c.seq).map((e) => ({ type: e.type, payload: e.payload })))
        : undefined;
      const rows = await this.#rows(table, chunk.map((c) => c.state), events, chunk.map((c) => c.id));
      const last = chunk[chunk.length - 1]?.id ?? null;
      state = { ...state, cursor: last, done: state.done + chunk.length };
      const next = state;
      await this.#store.write((txn) => {
        chunk.forEach((c, i) => {
          const current = txn.get("state", stateKey(manifest.from, c.id)) as StoredState | undefined;
          if (current?.seq !== c.seq) return; // a live write got there first, with the newer row
          view.applyRowChange(txn, c.id, rows[i] ?? null);
        });
        txn.put("meta", metaKey(table), next);
      });
      entry.status = { ...entry.status, done: state.done };
      this.#progress(manifest.name, entry.status);
    }
    state = { ...state, status: "ready", cursor: null };
    const ready = state;
    await this.#store.write((txn) => { txn.put("meta", metaKey(table), ready); });
  }

  #lastProgressAt = 0;

  /** One progress line a second while a build runs (the dev/run output's progress bar). */
  #progress(view: string, status: BuildStatus): void {
    const now = performance.now();
    if (now - this.#lastProgressAt < PROGRESS_EVERY_MS) return;
    this.#lastProgressAt = now;
    const pct = status.total > 0 ? Math.min(100, Math.floor((100 * status.done) / status.total)) : 100;
    const width = 20;
    const filled = Math.round((pct / 100) * width);
    this.#log("info", `view '${view}' [${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct}% (${status.done} of ${status.total})`, { view, done: status.done, total: status.total });
  }

  #count(component: string): number {
    const prefix = encodeKeyPrefix([component]);
    return this.#store.read((txn) => {
      let n = 0;
      for (const _ of txn.range("state", { start: prefix, end: prefixEnd(prefix) })) n++;
      return n;
    });
  }
}
