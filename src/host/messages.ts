// Every message between the main thread and a worker, with its payload type.
import type { EntityWrite } from "../storage/store.js";

/** What a route or client call carries into a command. */
export interface RequestData {
  readonly params: Record<string, string>;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
}

/** The serialisable description of a project's components, reported by a worker after loading. */
export interface Manifest {
  readonly entities: readonly EntityManifest[];
  readonly views: readonly ViewManifest[];
  readonly endpoints: readonly EndpointManifest[];
}

export interface EndpointManifest {
  readonly name: string;
  readonly file: string;
  /** Declared routes, "GET /carts/:id/summary". */
  readonly routes: readonly string[];
  readonly timeoutMs: number | undefined;
}

/** An endpoint request as the worker receives it. */
export interface EndpointRequestData extends RequestData {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

/** An error crossing threads: enough to rebuild its status and code. */
export interface WireError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  /** Set for a handler's chosen 4xx. */
  readonly status: number | undefined;
}

export interface EntityManifest {
  readonly name: string;
  readonly kind: "keyValueEntity" | "eventSourcedEntity";
  readonly file: string;
  readonly commands: readonly CommandManifest[];
}

export interface CommandManifest {
  readonly name: string;
  /** "POST /customers/:id", as declared. */
  readonly http: string | undefined;
  /** Path parameter holding the entity id. */
  readonly key: string | undefined;
  readonly timeoutMs: number | undefined;
  /** Declared `pure: true`: its reply depends only on state, body and id, and it writes nothing (its replies may be kept). */
  readonly pure?: boolean;
}

export interface ViewManifest {
  readonly name: string;
  readonly table: string;
  readonly file: string;
  /** Name of the entity feeding the view. */
  readonly from: string;
  readonly queries: readonly { readonly name: string; readonly sql: string; readonly http: string | undefined; readonly maxRows: number | undefined; readonly result: "list" | "single" | undefined }[];
  /** Fingerprint of the updater's source ("" without one): a changed updater means the rows must be rebuilt. */
  readonly updaterHash: string;
  /** "events": rows are folded from events by per-event updaters; "state": computed from the state. */
  readonly updaterKind: "state" | "events";
}

/** A problem in the user's project, located in a file. */
export interface ProjectProblem {
  readonly code: string;
  readonly message: string;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** A few lines of source around the position, when known. */
  readonly frame: string | undefined;
}

/** One version of a project's code: each module's source (for error frames) and its transpiled JavaScript. */
export interface ProjectModules {
  readonly sources: Readonly<Record<string, string>>;
  readonly compiled: Readonly<Record<string, string>>;
}

export type ToWorker =
  /**
   * `modules` is a snapshot of the project's code, read and transpiled once per
   * load: a worker replaced later runs the same code, whatever is on disk.
   */
  | {
      readonly t: "load"; readonly projectDir: string; readonly dataDir: string; readonly modules: ProjectModules;
      /** Int32 shared with the main thread: the worker writes the reqId of the command it is running (0 when idle). */
      readonly progress: SharedArrayBuffer;
    }
  /** Several messages sent in one turn of the sender's event loop, in order. */
  | { readonly t: "batch"; readonly items: readonly ToWorker[] }
  | {
      readonly t: "command";
      readonly reqId: number;
      readonly component: string;
      readonly id: string;
      readonly command: string;
      readonly body: unknown;
      readonly request: RequestData | undefined;
    }
  /** Hot reload, step 1: load a new version beside the running one (answered by prepared / prepareFailed). */
  | { readonly t: "prepare"; readonly projectDir: string; readonly dataDir: string; readonly modules: ProjectModules }
  /** Step 2, after the pool drained: switch to the prepared version (its entity cache carries over). */
  | { readonly t: "activate" }
  /** Or: forget the prepared version. */
  | { readonly t: "discard" }
  | { readonly t: "endpoint"; readonly reqId: number; readonly endpoint: string; readonly route: string; readonly request: EndpointRequestData }
  /** The answer to a worker's `call` or `query`. */
  | { readonly t: "callResult"; readonly callId: number; readonly ok: true; readonly value: unknown }
  | { readonly t: "callResult"; readonly callId: number; readonly ok: false; readonly error: WireError }
  /** View rebuild: compute `table`'s rows for stored states (answered by a `result` whose value is (row | null)[]). */
  | {
      readonly t: "rows"; readonly reqId: number; readonly table: string; readonly states: readonly unknown[];
      /** For event-updated views: each entity's whole journal, and its id. */
      readonly events: readonly (readonly { readonly type: string; readonly payload: unknown }[])[] | undefined;
      readonly ids: readonly string[];
    }
  /** A list query for the worker to answer (worker-queries.ts): a `result` whose value is the response body, or null to decline. */
  | {
      readonly t: "viewQuery"; readonly reqId: number; readonly view: string; readonly query: string;
      readonly params: Record<string, string>; readonly ndjson: boolean; readonly chunkRows: number;
    }
  /** The commit of a write computed on this entity's cached state failed: forget the cache. */
  | { readonly t: "invalidate"; readonly component: string; readonly id: string }
  /** Forget every cached entity state (the pool's routing changed: src/host/worker-pool.ts admit()). */
  | { readonly t: "forget" }
  | { readonly t: "stop" };

export type FromWorker =
  /** The answers to one batch, in order. */
  | { readonly t: "batch"; readonly items: readonly FromWorker[] }
  | { readonly t: "loaded"; readonly manifest: Manifest }
  | { readonly t: "loadFailed"; readonly problems: readonly ProjectProblem[] }
  | { readonly t: "prepared"; readonly manifest: Manifest }
  | { readonly t: "prepareFailed"; readonly problems: readonly ProjectProblem[] }
  | {
      readonly t: "result";
      readonly reqId: number;
      /** What to commit before replying (absent: nothing changes). */
      readonly write: EntityWrite | undefined;
      readonly reply: ReplyData;
    }
  /** An endpoint calls an entity command (answered with callResult). */
  | { readonly t: "call"; readonly callId: number; readonly component: string; readonly id: string; readonly command: string; readonly body: unknown }
  /** An endpoint runs a view query (answered with callResult). */
  | { readonly t: "query"; readonly callId: number; readonly view: string; readonly query: string; readonly params: Record<string, string> }
  | { readonly t: "log"; readonly level: "debug" | "info" | "warn" | "error"; readonly msg: string; readonly fields: Record<string, unknown> };

export type ReplyData =
  | { readonly ok: true; readonly value: unknown }
  /** The handler chose to fail (a 4xx). */
  | { readonly ok: false; readonly kind: "rejected"; readonly status: number; readonly code: string; readonly message: string }
  /** The handler threw, or returned something that is not an effect. */
  | { readonly ok: false; readonly kind: "failed"; readonly errorId: string; readonly message: string; readonly stack: string | undefined }
  /** An error from a call an endpoint made, passed on with its code. */
  | { readonly ok: false; readonly kind: "forwarded"; readonly error: WireError }
  /** The command or component does not exist. */
  | { readonly ok: false; readonly kind: "unknown"; readonly message: string };
