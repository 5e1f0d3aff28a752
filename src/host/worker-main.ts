// Entry point of a worker thread: loads the project's modules, then runs the
// commands the main thread routes to it, in order. Messages travel in batches
// both ways (docs/host.md "Messages between threads"): what the main thread
// queued during one turn of its event loop arrives as one message, and the
// answers to one batch leave as one message.
import { randomUUID } from "node:crypto";
import { parentPort, threadId } from "node:worker_threads";
import { startupTrace } from "../cli/startup-trace.js";
import { describeCodeCache } from "../cli/code-cache.js";
import * as calyx from "../api/index.js";
import { loadAndDiscover } from "./discovery.js";
import { EndpointRunner } from "./endpoint-runner.js";
import { EntityRunner } from "./entity-runner.js";
import { ModuleLoader } from "./loader.js";
import type { FromWorker, Manifest, ProjectModules, ProjectProblem, ToWorker } from "./messages.js";
import { componentFiles } from "./project-files.js";
import { openStateSource, type ClosableStateSource } from "./state-source.js";
import { WorkerQueries } from "./worker-queries.js";

if (!parentPort) throw new Error("worker-main.ts must run in a worker thread");
const port = parentPort;

const PASSIVATION_SWEEP_MS = 10_000;

let runner: EntityRunner | undefined;
let endpoints: EndpointRunner | undefined;
let queries: WorkerQueries | undefined;
let source: ClosableStateSource | undefined;
/** A new version of the project, loaded by `prepare`, waiting for `activate`. */
let prepared: { runner: EntityRunner; endpoints: EndpointRunner; queries: WorkerQueries } | undefined;

/** Where the worker says which command it is running (its reqId, 0 when idle): the main thread's watchdog reads it. */
let running: Int32Array | undefined;
/** Answers collected while a batch runs (undefined outside one: then post() sends at once). */
let outbox: FromWorker[] | undefined;

function post(message: FromWorker): void {
  if (outbox) outbox.push(message);
  else port.postMessage(message);
}

port.on("message", (message: ToWorker) => {
  outbox = [];
  source?.freshen();
  try {
    handle(message);
  } finally {
    if (running) Atomics.store(running, 0, 0);
    const out = outbox;
    outbox = undefined;
    if (out.length === 1) port.postMessage(out[0]);
    else if (out.length > 1) port.postMessage({ t: "batch", items: out } satisfies FromWorker);
  }
});

type Built = { ok: true; manifest: Manifest; runner: EntityRunner; endpoints: EndpointRunner; queries: WorkerQueries } | { ok: false; problems: ProjectProblem[] };

function build(projectDir: string, dataDir: string, code: ProjectModules): Built {
  const loader = new ModuleLoader(projectDir, { calyx }, { sources: code.sources, compiled: code.compiled });
  const found = loadAndDiscover(projectDir, componentFiles(projectDir, Object.keys(code.sources)), (file) => loader.load(file));
  if (found.problems.length > 0) return { ok: false, problems: [...found.problems] };
  source ??= openStateSource(dataDir);
  return {
    ok: true, manifest: found.manifest, runner: new EntityRunner(found.entities, found.views, source), endpoints: new EndpointRunner(found.endpoints, post),
    queries: new WorkerQueries(found.manifest, source),
  };
}

function handle(message: ToWorker): void {
  switch (message.t) {
    case "load": {
      running = new Int32Array(message.progress);
      const built = build(message.projectDir, message.dataDir, message.modules);
      if (!built.ok) {
        post({ t: "loadFailed", problems: built.problems });
        return;
      }
      runner = built.runner;
      endpoints = built.endpoints;
      queries = built.queries;
      const sweep = setInterval(() => runner?.passivate(), PASSIVATION_SWEEP_MS);
      sweep.unref();
      post({ t: "loaded", manifest: built.manifest });
      startupTrace(`worker ${threadId} project loaded (${describeCodeCache()})`);
      return;
    }
    case "prepare": {
      // Hot reload without a new thread: load the new version beside the running one.
      const built = build(message.projectDir, message.dataDir, message.modules);
      if (!built.ok) {
        post({ t: "prepareFailed", problems: built.problems });
        return;
      }
      prepared = { runner: built.runner, endpoints: built.endpoints, queries: built.queries };
      post({ t: "prepared", manifest: built.manifest });
      return;
    }
    case "activate":
      // Everything sent before this message has run on the old version (the pool drained first).
      if (prepared) {
        if (runner) prepared.runner.adoptCache(runner);
        runner = prepared.runner;
        endpoints = prepared.endpoints;
        queries = prepared.queries;
        prepared = undefined;
      }
      return;
    case "discard":
      prepared = undefined;
      return;
    case "command": {
      if (!runner) throw new Error("command before load");
      if (running) Atomics.store(running, 0, message.reqId);
      const { write, reply } = runner.run(message.component, message.id, message.command, message.body, message.request);
      post({ t: "result", reqId: message.reqId, write, reply });
      return;
    }
    case "rows": {
      if (!runner) throw new Error("rows before load");
      try {
        post({ t: "result", reqId: message.reqId, write: undefined, reply: { ok: true, value: runner.computeRows(message.table, message.states, message.events, message.ids) } });
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        post({ t: "result", reqId: message.reqId, write: undefined, reply: { ok: false, kind: "failed", errorId: randomUUID(), message: err.message, stack: err.stack } });
      }
      return;
    }
    case "endpoint":
      if (!endpoints) throw new Error("endpoint before load");
      endpoints.run(message.reqId, message.endpoint, message.route, message.request);
      return;
    case "callResult":
      endpoints?.onCallResult(message);
      return;
    case "viewQuery":
      // The first query loads the query compiler in the background (declined
      // until it is ready): start-up, which shares the cores, never waits for it.
      queries?.warm();
      post({ t: "result", reqId: message.reqId, write: undefined, reply: { ok: true, value: queries?.run(message.view, message.query, message.params, message.ndjson, message.chunkRows) ?? null } });
      return;
    case "invalidate":
      runner?.invalidate(message.component, message.id);
      return;
    case "forget":
      runner?.forgetAll();
      return;
    case "batch":
      for (const m of message.items) handle(m);
      return;
    case "stop":
      source?.close();
      port.close();
      return;
  }
}
