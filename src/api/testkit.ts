// `calyx/testkit`: test entities in memory (unit), or the whole service
// in-process on a temporary data folder and a free port (integration).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { executeCommand } from "./execute.js";
import type { RequestInfo } from "./components.js";

type CommandsOf<E> = E extends { commands: infer C } ? C : never;
type StateOf<E> = E extends { initialState: () => infer S } ? S : never;
type CommandArg<H> = H extends { handler(state: never, command: infer C, ctx: never): unknown } ? C : unknown;
type ReplyOf<H> = H extends { handler(...args: never[]): { readonly [k: symbol]: infer R } } ? R : unknown;

/** The outcome of one command run by the unit testkit. */
export interface CallResult<S, R> {
  /** The reply, when the command succeeded. */
  readonly reply: R | undefined;
  /** The handler's chosen error (`ctx.error`), when it failed. */
  readonly error: { readonly status: number; readonly code: string; readonly message: string } | undefined;
  /** Events persisted (event-sourced) or the state change recorded (key-value: type "state" / "delete"). */
  readonly events: readonly { readonly type: string; readonly payload: unknown }[];
  /** The state after the command. */
  readonly state: S;
}

export interface EntityTestKit<E> {
  /** The entity's current state. */
  readonly state: StateOf<E>;
  /** Every journal entry so far. */
  readonly events: readonly { readonly type: string; readonly payload: unknown }[];
  /** Runs a command as the runtime would (a handler that throws makes this throw). */
  call<K extends keyof CommandsOf<E> & string>(command: K, body?: CommandArg<CommandsOf<E>[K]>, request?: Partial<RequestInfo>): CallResult<StateOf<E>, ReplyOf<CommandsOf<E>[K]>>;
}

/**
 * Runs an entity's command handlers in memory, like Akka's EventSourcedTestKit.
 *
 * @example
 * const kit = entityTestKit(customer, { id: "c1" });
 * const r = kit.call("create", { name: "Ann", email: "ann@example.com" });
 * assert.equal(r.reply, "done");
 * assert.deepEqual(kit.state, { name: "Ann", email: "ann@example.com" });
 */
export function entityTestKit<E extends { kind: string; name: string; initialState: () => unknown; commands: object }>(entity: E,
  options: { id?: string; state?: StateOf<E> } = {}): EntityTestKit<E> {
  const id = options.id ?? "test-id";
  let state = (options.state !== undefined ? options.state : entity.initialState()) as StateOf<E>;
  const journal: { type: string; payload: unknown }[] = [];
  return {
    get state() { return state; },
    get events() { return journal; },
    call(command, body, request) {
      const info: RequestInfo | undefined = request ? { params: {}, query: {}, headers: {}, ...request } : undefined;
      const ex = executeCommand(entity as unknown as Parameters<typeof executeCommand>[0], structuredClone(state), id, command, structuredClone(body), info);
      if (ex.kind === "rejected") {
        return { reply: undefined, error: { status: ex.status, code: ex.code, message: ex.message }, events: [], state };
      }
      if (ex.change !== "none") state = ex.state as StateOf<E>;
      journal.push(...ex.events);
      return { reply: ex.value as never, error: undefined, events: ex.events, state };
    },
  };
}

/** A running service started by `startTestRuntime`. */
export interface TestRuntime {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** fetch() relative to the service. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Calls a command directly (as an endpoint's client would); rejects with the handler's error. */
  call(component: string, command: string, id: string, body?: unknown): Promise<unknown>;
  /** Runs a view query with string parameters (as from a URL). */
  query(view: string, query: string, params?: Record<string, string>): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * Starts the whole service in this process: real workers, real LMDB on a
 * temporary folder, real HTTP on a free port. Stop it in teardown.
 *
 * @example
 * const rt = await startTestRuntime();           // the project `calyx test` runs, or cwd
 * after(() => rt.stop());
 * const res = await rt.fetch("/customers/c1", { method: "POST", body: JSON.stringify({ name: "Ann", email: "a@x.io" }) });
 */
export async function startTestRuntime(options: { project?: string; workers?: number } = {}): Promise<TestRuntime> {
  // Loaded lazily: the unit testkit must not pull the engine in.
  const { Runtime, RUNTIME_DEFAULTS } = await import("../host/runtime.js");
  const { UwsServer } = await import("../http/uws-server.js");
  const { createLogger } = await import("../host/logger.js");
  const { attachLive } = await import("../http/ws-setup.js");
  const projectDir = resolve(options.project ?? process.env["CALYX_PROJECT_DIR"] ?? process.cwd());
  const dataDir = mkdtempSync(join(tmpdir(), "calyx-test-"));
  const log = createLogger({ format: "pretty", level: "warn" });
  const runtime = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir, dataDir, log, workers: options.workers ?? 1, durability: "none" });
  // Live queries, /_calyx/ws (a client: `new CalyxClient(rt.url)`) and streamed query responses, as `calyx run` serves them.
  const live = attachLive(runtime, { log });
  const server = new UwsServer(runtime, { host: "127.0.0.1", port: 0, bodyBytesMax: 1_048_576, log, extend: live.extend, streamQuery: live.streamQuery });
  const { port } = await server.start();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    fetch: (path, init) => fetch(url + path, { ...init, headers: { "content-type": "application/json", ...(init?.headers ?? {}) } }),
    call: (component, command, id, body) => runtime.command(component, command, id, body, undefined),
    query: (view, query, params = {}) => runtime.query(view, query, params).rows,
    async stop() {
      live.close();
      await server.stop();
      await runtime.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
