// A pool of worker threads running user code. Commands are routed by entity:
// hash(component, id) % size, so one worker is the single writer of an entity
// and keeps its state hot. A worker that overruns a handler's timeout, crashes
// or runs out of memory is replaced; only its in-flight commands fail.
import type { Worker } from "node:worker_threads";
import { CommandRejected, ForwardedError, HostError, ProjectError } from "./errors.js";
import type { EndpointRequestData, FromWorker, Manifest, ProjectModules, ReplyData, RequestData, ToWorker, WireError } from "./messages.js";
import type { EntityWrite } from "../storage/store.js";
import { startWorker, takePrebooted } from "./worker-start.js";
import { TranspileCache } from "./transpile-cache.js";
import { snapshotSources } from "./project-files.js";

export interface PoolOptions {
  readonly projectDir: string;
  readonly dataDir: string;
  /** Worker threads (default: available cores). */
  readonly workers: number;
  /** A handler running longer than this has its worker replaced. */
  readonly handlerTimeoutMs: number;
  /** Commands queued or running on one worker before new ones get ERR_OVERLOADED. */
  readonly queueMax: number;
  /** Heap limit of one worker. */
  readonly workerHeapMb: number;
  /** Answers an endpoint's call to a command or a query (from a worker). */
  readonly onCall: (m: Extract<FromWorker, { t: "call" } | { t: "query" }>) => Promise<unknown>;
  readonly log: (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

export interface CommandOutcome {
  readonly write: EntityWrite | undefined;
  readonly value: unknown;
}

interface Pending {
  readonly reqId: number;
  readonly component: string;
  readonly id: string;
  readonly command: string;
  readonly timeoutMs: number;
  startedAt: number;
  readonly resolve: (o: CommandOutcome) => void;
  readonly reject: (e: Error) => void;
  readonly message: ToWorker;
}

const WATCHDOG_INTERVAL_MS = 50;

class Slot {
  worker: Worker | undefined;
  ready: Promise<Manifest> | undefined;
  /** Entity commands in arrival order; the worker answers them in the same order. */
  readonly inFlight = new Map<number, Pending>();
  /** Endpoint requests: async, they finish in any order. */
  readonly endpoints = new Map<number, Pending>();
  /** When the worker last sent anything: a silent worker with work pending is stuck. */
  lastMessageAt = performance.now();
  generation = 0;
  /** Fails the worker's loading, when stop() comes first. */
  abandon: (() => void) | undefined;
  /** Waiting for this worker's answer to `prepare`. */
  onPrepared: ((m: FromWorker) => void) | undefined;
  /** Messages for the worker, sent as one batch at the end of this turn of the event loop. */
  outbox: ToWorker[] = [];
  /** Shared with the worker: the reqId of the command it is running (0 when idle). */
  readonly progress = new SharedArrayBuffer(4);
  readonly running = new Int32Array(this.progress);
  /** The watchdog's last sight of `running`, and since when. */
  watchReq = 0;
  watchSince = 0;
}

export { WORKER_HEAP_MB_DEFAULT } from "./worker-start.js";

export class WorkerPool {
  readonly #options: PoolOptions;
  /** The workers entities are routed over. */
  readonly #slots: Slot[] = [];
  /** Workers loading the project to join #slots (grow(), then admit()). */
  readonly #joining: Slot[] = [];
  #nextReqId = 1;
  #watchdog: NodeJS.Timeout | undefined;
  /** Tests waiting for the watchdog to clear its timer (whenUnwatched). */
  #unwatchedWaiters: (() => void)[] = [];
  #stopping = false;
  #timeouts = new Map<string, number>();
  #roundRobin = 0;
  #modules: ProjectModules = { sources: {}, compiled: {} };
  #preparedModules: ProjectModules | undefined;
  readonly #drainWaiters: (() => void)[] = [];
  #flushScheduled = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#slots.length;
  }

  /**
   * Starts the first `initial` workers (all by default; grow() starts the
   * others); resolves with the project's manifest, or rejects with a ProjectError.
   */
  async start(initial = this.#options.workers): Promise<Manifest> {
    const count = Math.max(1, Math.min(initial, this.#options.workers));
    for (let i = 0; i < count; i++) this.#slots.push(new Slot());
    // The threads boot (Node's bootstrap, the worker bundle and its packages)
    // while this thread transpiles the project; they wait for its modules.
    const booting = this.#slots.map(() => this.#newWorker());
    try {
      this.#modules = await loadModules(this.#options.projectDir, this.#options.dataDir);
    } catch (error) {
      await Promise.all(booting.map((w) => w.terminate()));
      this.#slots.length = 0;
      throw error;
    }
    const manifests = await Promise.allSettled(this.#slots.map((slot, i) => this.#spawn(slot, booting[i])));
    const failure = manifests.find((m) => m.status === "rejected");
    if (failure && failure.status === "rejected") {
      await this.stop();
      throw failure.reason;
    }
    const first = manifests[0];
    if (!first || first.status !== "fulfilled") throw new Error("no worker started");
    this.#setTimeouts(first.value);
    return first.value;
  }

  /** Workers loading the project to join (grow() until admit()). */
  get joining(): number {
    return this.#joining.length;
  }

  /** Workers start() left out. */
  get missing(): number {
    return Math.max(0, Math.max(1, this.#options.workers) - this.#slots.length - this.#joining.length);
  }

  /**
   * Loads the project into the workers start() left out, beside the running
   * ones; resolves with how many once all of them are loaded, and admit()
   * puts them to work. When one fails to load, all of them are stopped and
   * the error is thrown: the pool goes on with the workers it has.
   */
  async grow(): Promise<number> {
    const count = this.missing;
    if (count === 0 || this.#stopping) return 0;
    const joining: Slot[] = [];
    for (let i = 0; i < count; i++) joining.push(new Slot());
    this.#joining.push(...joining);
    const loads = await Promise.allSettled(joining.map((slot) => this.#spawn(slot)));
    const failure = loads.find((l) => l.status === "rejected");
    if (failure === undefined && !this.#stopping) return count;
    for (const slot of joining) {
      const at = this.#joining.indexOf(slot);
      if (at >= 0) this.#joining.splice(at, 1);
      slot.generation++;
      const worker = slot.worker;
      slot.worker = undefined;
      if (worker) await worker.terminate();
    }
    // Stopped meanwhile: nothing to report.
    if (failure?.status === "rejected" && !this.#stopping) throw failure.reason;
    return 0;
  }

  /**
   * Routes entities over the joined workers too. Call it with nothing in
   * flight (after drain(), and once their writes are committed): an entity's
   * worker may change, and the new one reads its state from the store. The
   * others forget the states they cached, so that no worker keeps a copy of
   * an entity it no longer owns.
   */
  admit(): number {
    if (this.#joining.length === 0) return 0;
    for (const slot of this.#slots) if (slot.worker && slot.ready === undefined) this.#send(slot, { t: "forget" });
    const joined = this.#joining.splice(0);
    this.#slots.push(...joined);
    return joined.length;
  }

  /** Runs a command on the entity's worker. Rejects with HostError or CommandRejected. */
  call(component: string, id: string, command: string, body: unknown, request: RequestData | undefined): Promise<CommandOutcome> {
    if (this.#stopping) return Promise.reject(new HostError("ERR_STOPPING", "the server is shutting down", { retryAfterMs: 1000 }));
    const slot = this.#slots[hashEntity(component, id) % this.#slots.length];
    if (!slot) throw new Error("pool not started");
    if (slot.inFlight.size >= this.#options.queueMax) {
      return Promise.reject(new HostError("ERR_OVERLOADED", `too many commands queued for this worker (${this.#options.queueMax}); retry shortly`, { retryAfterMs: 100 }));
    }
    const reqId = this.#newReqId();
    const message: ToWorker = { t: "command", reqId, component, id, command, body, request };
    return new Promise<CommandOutcome>((resolve, reject) => {
      const pending: Pending = {
        reqId, component, id, command, message, resolve, reject, startedAt: performance.now(),
        timeoutMs: this.#timeouts.get(`${component}.${command}`) ?? this.#options.handlerTimeoutMs,
      };
      slot.inFlight.set(reqId, pending);
      if (this.#watchdog === undefined) this.#arm();
      // A worker being replaced gets its queue when it is ready again.
      if (slot.worker && slot.ready === undefined) this.#send(slot, message);
    });
  }

  /** Runs an endpoint route on some worker (round robin). */
  endpoint(name: string, route: string, request: EndpointRequestData, timeoutMs: number | undefined): Promise<unknown> {
    if (this.#stopping) return Promise.reject(new HostError("ERR_STOPPING", "the server is shutting down", { retryAfterMs: 1000 }));
    const slot = this.#slots[this.#roundRobin++ % this.#slots.length];
    if (!slot) throw new Error("pool not started");
    if (slot.endpoints.size >= this.#options.queueMax) {
      return Promise.reject(new HostError("ERR_OVERLOADED", `too many endpoint requests on this worker (${this.#options.queueMax}); retry shortly`, { retryAfterMs: 100 }));
    }
    const reqId = this.#newReqId();
    const message: ToWorker = { t: "endpoint", reqId, endpoint: name, route, request };
    return new Promise<unknown>((resolve, reject) => {
      slot.endpoints.set(reqId, {
        reqId, component: name, id: route, command: route, message, reject, startedAt: performance.now(),
        timeoutMs: timeoutMs ?? this.#options.handlerTimeoutMs, resolve: (o) => resolve(o.value),
      });
      if (this.#watchdog === undefined) this.#arm();
      if (slot.worker && slot.ready === undefined) this.#send(slot, message);
    });
  }

  /**
   * Hot reload, step 1: every worker loads the project's current sources
   * beside the running version. Resolves with the new manifest; rejects with a
   * ProjectError (nothing changes), or with an Error when a worker is not
   * ready (then reload with a new pool instead).
   */
  async prepare(): Promise<Manifest> {
    if (this.#slots.some((slot) => slot.ready !== undefined || !slot.worker)) throw new Error("a worker is restarting");
    const modules = await loadModules(this.#options.projectDir, this.#options.dataDir);
    const answers = await Promise.all(this.#slots.map((slot) => new Promise<FromWorker>((resolve) => {
      slot.onPrepared = resolve;
      this.#send(slot, { t: "prepare", projectDir: this.#options.projectDir, dataDir: this.#options.dataDir, modules });
    })));
    const failed = answers.find((a) => a.t === "prepareFailed");
    if (failed && failed.t === "prepareFailed") {
      for (const slot of this.#slots) this.#send(slot, { t: "discard" });
      throw new ProjectError(failed.problems);
    }
    const first = answers[0];
    if (!first || first.t !== "prepared") throw new Error("no worker prepared");
    this.#preparedModules = modules;
    return first.manifest;
  }

  /** Step 2 (after drain()): switch every worker to the prepared version. */
  activate(manifest: Manifest): void {
    for (const slot of this.#slots) this.#send(slot, { t: "activate" });
    if (this.#preparedModules) this.#modules = this.#preparedModules;
    this.#preparedModules = undefined;
    this.#setTimeouts(manifest);
  }

  /** Forgets a prepared version. */
  discard(): void {
    for (const slot of this.#slots) this.#send(slot, { t: "discard" });
    this.#preparedModules = undefined;
  }

  #setTimeouts(manifest: Manifest): void {
    this.#timeouts.clear();
    for (const e of manifest.entities) {
      for (const c of e.commands) if (c.timeoutMs !== undefined) this.#timeouts.set(`${e.name}.${c.name}`, c.timeoutMs);
    }
  }

  /** Computes a view's rows for stored states on some worker (view rebuild). */
  rows(table: string, states: readonly unknown[], events: readonly (readonly { type: string; payload: unknown }[])[] | undefined, ids: readonly string[]): Promise<(Record<string, unknown> | null)[]> {
    const slot = this.#slots[this.#roundRobin++ % this.#slots.length];
    if (!slot || this.#stopping) return Promise.reject(new HostError("ERR_STOPPING", "the server is shutting down"));
    const reqId = this.#newReqId();
    const message: ToWorker = { t: "rows", reqId, table, states, events, ids };
    return new Promise((resolve, reject) => {
      slot.endpoints.set(reqId, {
        reqId, component: table, id: "", command: "rebuild", message, reject, startedAt: performance.now(),
        timeoutMs: this.#options.handlerTimeoutMs * 4, resolve: (o) => resolve(o.value as (Record<string, unknown> | null)[]),
      });
      if (this.#watchdog === undefined) this.#arm();
      if (slot.worker && slot.ready === undefined) this.#send(slot, message);
    });
  }

  /**
   * Asks a worker (round robin) to answer a list query: resolves with the
   * response body, or null when it declines or cannot (then the caller runs
   * the query itself). Never rejects.
   */
  viewQuery(view: string, query: string, params: Record<string, string>, ndjson: boolean, chunkRows: number): Promise<string | null> {
    const slot = this.#slots[this.#roundRobin++ % this.#slots.length];
    if (!slot?.worker || slot.ready !== undefined || this.#stopping || slot.endpoints.size >= this.#options.queueMax) return Promise.resolve(null);
    const reqId = this.#newReqId();
    const message: ToWorker = { t: "viewQuery", reqId, view, query, params, ndjson, chunkRows };
    return new Promise((resolve) => {
      slot.endpoints.set(reqId, {
        reqId, component: view, id: "", command: query, message, reject: () => resolve(null), startedAt: performance.now(),
        timeoutMs: this.#options.handlerTimeoutMs, resolve: (o) => resolve(typeof o.value === "string" ? o.value : null),
      });
      if (this.#watchdog === undefined) this.#arm();
      this.#send(slot, message);
    });
  }

  /** Resolves once no command is queued or running on any worker (new calls are still accepted). */
  drain(): Promise<void> {
    if (this.#slots.every((slot) => slot.inFlight.size === 0 && slot.endpoints.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #checkDrained(): void {
    if (this.#drainWaiters.length === 0 || this.#slots.some((slot) => slot.inFlight.size > 0 || slot.endpoints.size > 0)) return;
    const waiters = this.#drainWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Tells the entity's worker to drop its cached state. */
  invalidate(component: string, id: string): void {
    const slot = this.#slots[hashEntity(component, id) % this.#slots.length];
    if (slot?.worker && slot.ready === undefined) this.#send(slot, { t: "invalidate", component, id });
  }

  /** reqIds fit the Int32 the worker reports progress in (and are never 0). */
  #newReqId(): number {
    const id = this.#nextReqId;
    this.#nextReqId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }

  /**
   * Queues a message for the slot's worker. Everything queued in one turn of
   * the event loop leaves as one postMessage (one structured clone, one
   * wake-up of the worker) when the turn ends, in order.
   */
  #send(slot: Slot, message: ToWorker): void {
    slot.outbox.push(message);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const slot of this.#slots) flushSlot(slot);
    for (const slot of this.#joining) flushSlot(slot);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    await Promise.all([...this.#slots, ...this.#joining].map(async (slot) => {
      slot.abandon?.();
      const w = slot.worker;
      slot.worker = undefined;
      slot.generation++;
      for (const p of [...slot.inFlight.values(), ...slot.endpoints.values()]) p.reject(new HostError("ERR_STOPPING", "the server is shutting down", { retryAfterMs: 1000 }));
      slot.inFlight.clear();
      slot.endpoints.clear();
      if (w) await w.terminate();
    }));
  }

  #newWorker(): Worker {
    return takePrebooted(this.#options.workerHeapMb) ?? startWorker(this.#options.workerHeapMb);
  }

  /** Loads the project into a new worker for `slot` (`booted`: one started already, by start()). */
  #spawn(slot: Slot, booted?: Worker): Promise<Manifest> {
    const generation = ++slot.generation;
    // Messages queued for the previous worker: its pending work is re-sent once this one is loaded.
    slot.outbox = [];
    Atomics.store(slot.running, 0, 0);
    slot.watchReq = 0;
    const worker = booted ?? this.#newWorker();
    slot.worker = worker;
    slot.lastMessageAt = performance.now();
    worker.postMessage({ t: "load", projectDir: this.#options.projectDir, dataDir: this.#options.dataDir, modules: this.#modules, progress: slot.progress } satisfies ToWorker);
    const ready = new Promise<Manifest>((resolve, reject) => {
      slot.abandon = () => reject(new HostError("ERR_STOPPING", "the server is shutting down"));
      const onMessage = (m: FromWorker): void => {
        switch (m.t) {
          case "batch":
            for (const item of m.items) onMessage(item);
            return;
          case "loaded":
            slot.ready = undefined;
            worker.ref();
            for (const p of [...slot.inFlight.values(), ...slot.endpoints.values()]) {
              p.startedAt = performance.now();
              this.#send(slot, p.message);
            }
            resolve(m.manifest);
            return;
          case "loadFailed":
            reject(new ProjectError(m.problems));
            return;
          case "prepared":
          case "prepareFailed":
            slot.onPrepared?.(m);
            slot.onPrepared = undefined;
            return;
          case "result":
            this.#settle(slot, m.reqId, m.write, m.reply);
            return;
          case "log":
            this.#options.log(m.level, m.msg, m.fields);
            return;
          case "call":
          case "query":
            this.#options.onCall(m).then(
              (value) => { if (slot.generation === generation) this.#send(slot, { t: "callResult", callId: m.callId, ok: true, value }); },
              (error: unknown) => { if (slot.generation === generation) this.#send(slot, { t: "callResult", callId: m.callId, ok: false, error: toWire(error) }); },
            );
            return;
        }
      };
      worker.on("message", (m: FromWorker) => {
        if (slot.generation !== generation) return;
        slot.lastMessageAt = performance.now();
        onMessage(m);
      });
      worker.on("error", (error) => {
        if (slot.generation !== generation) return;
        reject(error);
        // A worker that fails while loading is not replaced: start() reports it.
        if (slot.ready !== undefined) return;
        this.#replace(slot, `worker crashed: ${error.message}`, (p) => restarted(p, error.message, error));
      });
      worker.on("exit", (code) => {
        if (slot.generation !== generation || this.#stopping) return;
        reject(new Error(`worker exited with code ${code} while loading`));
        if (slot.ready !== undefined) return;
        this.#replace(slot, `worker exited with code ${code}`, (p) => restarted(p, `its worker exited with code ${code}`, undefined));
      });
    });
    slot.ready = ready;
    ready.catch(() => undefined);
    return ready;
  }

  #settle(slot: Slot, reqId: number, write: EntityWrite | undefined, reply: ReplyData): void {
    let p = slot.inFlight.get(reqId);
    if (p) {
      slot.inFlight.delete(reqId);
      // The next command in this worker's queue starts now.
      const next = slot.inFlight.values().next();
      if (!next.done) next.value.startedAt = Math.max(next.value.startedAt, performance.now());
    } else {
      p = slot.endpoints.get(reqId);
      if (!p) return;
      slot.endpoints.delete(reqId);
    }
    this.#checkDrained();
    if (reply.ok) {
      p.resolve({ write, value: reply.value });
    } else if (reply.kind === "rejected") {
      p.reject(new CommandRejected(reply.status, reply.code, reply.message));
    } else if (reply.kind === "failed") {
      this.#options.log("error", `${p.component}.${p.command} failed: ${reply.message}`, {
        component: p.component, entityId: p.id, command: p.command, errorId: reply.errorId, stack: reply.stack,
      });
      p.reject(new HostError("ERR_HANDLER_FAILED", `the handler of ${p.component}.${p.command} failed (error id ${reply.errorId})`, { errorId: reply.errorId }));
    } else if (reply.kind === "forwarded") {
      p.reject(new ForwardedError(reply.error.code, reply.error.message));
    } else {
      p.reject(new HostError("ERR_UNKNOWN_COMMAND", reply.message));
    }
  }

  /**
   * The watchdog runs only while some worker has work: an idle server sets no
   * timer (it would wake the process 20 times a second for nothing).
   */
  #arm(): void {
    if (this.#stopping) return;
    this.#watchdog = setInterval(() => this.#checkTimeouts(), WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
  }

  /** Whether the watchdog's timer is set (tests). */
  get watching(): boolean {
    return this.#watchdog !== undefined;
  }

  /** Resolves once the watchdog's timer is not set (tests). */
  whenUnwatched(): Promise<void> {
    if (this.#watchdog === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#unwatchedWaiters.push(resolve));
  }

  #checkTimeouts(): void {
    if (this.#slots.every((slot) => slot.inFlight.size === 0 && slot.endpoints.size === 0)) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      for (const resolve of this.#unwatchedWaiters.splice(0)) resolve();
      return;
    }
    const now = performance.now();
    for (const slot of this.#slots) {
      if (slot.ready !== undefined) continue;
      for (const p of slot.endpoints.values()) {
        if (now - p.startedAt <= p.timeoutMs) continue;
        slot.endpoints.delete(p.reqId);
        const what = describeWork(p);
        p.reject(new HostError("ERR_HANDLER_TIMEOUT", `${what} did not finish within ${p.timeoutMs} ms`));
        // Awaiting something slow is the endpoint's business; a worker that says nothing is stuck.
        if (now - slot.lastMessageAt > p.timeoutMs) {
          this.#options.log("error", `${what} blocked its worker for ${p.timeoutMs} ms; replacing it`, {});
          this.#replace(slot, `${what} blocked its worker`, (q) => restarted(q, `its worker was blocked by ${what}`, undefined));
        }
      }
      // The command the worker is running, from the word it shares with us
      // (a batch answers all at once, so the head of the queue may be done
      // already); else the head, timed from when it became the head.
      const running = Atomics.load(slot.running, 0);
      if (running !== slot.watchReq) {
        slot.watchReq = running;
        slot.watchSince = now;
      }
      let p = running !== 0 ? slot.inFlight.get(running) : undefined;
      let since = slot.watchSince;
      if (p === undefined) {
        const head = slot.inFlight.values().next();
        if (head.done) continue;
        p = head.value;
        since = p.startedAt;
      }
      if (now - since <= p.timeoutMs) continue;
      const stuck = p;
      this.#options.log("error", `${p.component}.${p.command} ran past its ${p.timeoutMs} ms timeout; replacing its worker`, {
        component: p.component, entityId: p.id, command: p.command,
      });
      this.#replace(slot, "a handler timed out", () =>
        new HostError("ERR_HANDLER_TIMEOUT", `the handler of ${stuck.component}.${stuck.command} did not finish within ${stuck.timeoutMs} ms; its worker was replaced`), stuck);
    }
  }

  /**
   * Kills the slot's worker and starts a new one. The command it was running
   * (`victim`, else the one it reports in `running`, else the head of its
   * queue) fails; the others run on the replacement: those behind it had not
   * started, and those before it in its batch had answers that never left the
   * worker, so nothing of them was committed or replied.
   */
  #replace(slot: Slot, why: string, victimError: (p: Pending) => HostError, victim?: Pending): void {
    if (this.#stopping) return;
    const old = slot.worker;
    const running = Atomics.load(slot.running, 0);
    const p = victim ?? (running !== 0 ? slot.inFlight.get(running) : undefined) ?? slot.inFlight.values().next().value;
    if (p !== undefined) {
      slot.inFlight.delete(p.reqId);
      p.reject(victimError(p));
    }
    this.#checkDrained();
    this.#options.log("warn", `replacing a worker: ${why}`, { requeued: slot.inFlight.size });
    if (old) void old.terminate();
    this.#spawn(slot).catch((error: unknown) => {
      this.#options.log("error", `a replacement worker failed to start: ${error instanceof Error ? error.message : String(error)}`, {});
      for (const p of slot.inFlight.values()) p.reject(new HostError("ERR_WORKER_RESTARTED", `${p.component}.${p.command} was not run: no worker could be started`, { retryAfterMs: 1000 }));
      slot.inFlight.clear();
    });
  }
}

/**
 * Reads and transpiles the project once (workers never load the transpiler); a
 * syntax error is a ProjectError. Unchanged files come from the transpile
 * cache; the transpiler itself is loaded only when some file is not there.
 */
async function loadModules(projectDir: string, dataDir: string): Promise<ProjectModules> {
  const sources = snapshotSources(projectDir);
  const cache = TranspileCache.open(dataDir);
  const cached = cache.lookup(sources);
  const missing = Object.fromEntries(Object.entries(sources).filter(([file]) => cached[file] === undefined));
  let fresh: Record<string, string> = {};
  if (Object.keys(missing).length > 0) {
    const { transpileAll } = await import("./transpile.js");
    const result = transpileAll(projectDir, missing);
    if (result.problems.length > 0) throw new ProjectError(result.problems);
    fresh = result.compiled;
  }
  const compiled: Record<string, string> = {};
  for (const file of Object.keys(sources)) compiled[file] = cached[file] ?? fresh[file] ?? "";
  cache.store(sources, compiled);
  return { sources, compiled };
}

/** What a non-command job on a worker is, for messages: an endpoint, a view query answered for the main thread, a view rebuild chunk. */
function describeWork(p: Pending): string {
  switch (p.message.t) {
    case "viewQuery":
      return `the query ${p.component}.${p.command} (answered in a worker)`;
    case "rows":
      return `the view rebuild of table ${p.component}`;
    default:
      return `endpoint ${p.component} '${p.command}'`;
  }
}

/** An error as it crosses to a worker: its code, and its status when it is a handler's chosen 4xx. */
function toWire(error: unknown): WireError {
  const e = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown; status?: unknown };
  const rejected = error instanceof CommandRejected;
  return {
    name: typeof e.name === "string" ? e.name : "Error",
    code: typeof e.code === "string" ? e.code : "ERR_INTERNAL",
    message: typeof e.message === "string" ? e.message : String(error),
    status: rejected ? (e.status as number) : undefined,
  };
}

function restarted(p: Pending, why: string, cause: unknown): HostError {
  return new HostError("ERR_WORKER_RESTARTED", `${p.component}.${p.command} was not completed: ${why}; it is safe to retry`, { retryAfterMs: 100, cause });
}

function flushSlot(slot: Slot): void {
  const out = slot.outbox;
  if (out.length === 0) return;
  slot.outbox = [];
  const worker = slot.worker;
  if (!worker) return;
  worker.postMessage(out.length === 1 ? out[0] : ({ t: "batch", items: out } satisfies ToWorker));
}

/** FNV-1a over component and id: stable, cheap, well spread. */
export function hashEntity(component: string, id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < component.length; i++) h = Math.imul(h ^ component.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0, 0x01000193);
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
