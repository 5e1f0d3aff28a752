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
}

export interface ViewManifest {
  readonly name: string;
  readonly table: string;
  readonly file: string;
  /** Name of the entity feeding the view. */
  readonly from: string;
  readonly queries: readonly { readonly name: string; readonly sql: string; readonly http: string | undefined; readonly maxRows: number | undefined }[];
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

export type ToWorker =
  | { readonly t: "load"; readonly projectDir: string; readonly dataDir: string; readonly viewsByEntity: Record<string, readonly string[]> | undefined }
  | {
      readonly t: "command";
      readonly reqId: number;
      readonly component: string;
      readonly id: string;
      readonly command: string;
      readonly body: unknown;
      readonly request: RequestData | undefined;
    }
  /** The commit of a write computed on this entity's cached state failed: forget the cache. */
  | { readonly t: "invalidate"; readonly component: string; readonly id: string }
  | { readonly t: "stop" };

export type FromWorker =
  | { readonly t: "loaded"; readonly manifest: Manifest }
  | { readonly t: "loadFailed"; readonly problems: readonly ProjectProblem[] }
  | {
      readonly t: "result";
      readonly reqId: number;
      /** What to commit before replying (absent: nothing changes). */
      readonly write: EntityWrite | undefined;
      readonly reply: ReplyData;
    }
  | { readonly t: "log"; readonly level: "debug" | "info" | "warn" | "error"; readonly msg: string; readonly fields: Record<string, unknown> };

export type ReplyData =
  | { readonly ok: true; readonly value: unknown }
  /** The handler chose to fail (a 4xx). */
  | { readonly ok: false; readonly kind: "rejected"; readonly status: number; readonly code: string; readonly message: string }
  /** The handler threw, or returned something that is not an effect. */
  | { readonly ok: false; readonly kind: "failed"; readonly errorId: string; readonly message: string; readonly stack: string | undefined }
  /** The command or component does not exist. */
  | { readonly ok: false; readonly kind: "unknown"; readonly message: string };
