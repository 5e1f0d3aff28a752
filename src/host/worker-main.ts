// Entry point of a worker thread: loads the project's modules, then runs the
// commands the main thread routes to it, one message at a time.
import { randomUUID } from "node:crypto";
import { parentPort } from "node:worker_threads";
import * as calyx from "../api/index.js";
import { loadAndDiscover } from "./discovery.js";
import { EndpointRunner } from "./endpoint-runner.js";
import { EntityRunner } from "./entity-runner.js";
import { ModuleLoader } from "./loader.js";
import type { FromWorker, Manifest, ProjectModules, ProjectProblem, ToWorker } from "./messages.js";
import { componentFiles } from "./project-files.js";
import { openStateSource, type ClosableStateSource } from "./state-source.js";

const port = parentPort;
if (!port) throw new Error("worker-main.ts must run in a worker thread");

const PASSIVATION_SWEEP_MS = 10_000;

let runner: EntityRunner | undefined;
let endpoints: EndpointRunner | undefined;
let source: ClosableStateSource | undefined;
/** A new version of the project, loaded by `prepare`, waiting for `activate`. */
let prepared: { runner: EntityRunner; endpoints: EndpointRunner } | undefined;

function post(message: FromWorker): void {
  port?.postMessage(message);
}

type Built = { ok: true; manifest: Manifest; runner: EntityRunner; endpoints: EndpointRunner } | { ok: false; problems: ProjectProblem[] };

function build(projectDir: string, dataDir: string, code: ProjectModules): Built {
  const loader = new ModuleLoader(projectDir, { calyx }, { sources: code.sources, compiled: code.compiled });
  const found = loadAndDiscover(projectDir, componentFiles(projectDir, Object.keys(code.sources)), (file) => loader.load(file));
  if (found.problems.length > 0) return { ok: false, problems: [...found.problems] };
  source ??= openStateSource(dataDir);
  return { ok: true, manifest: found.manifest, runner: new EntityRunner(found.entities, found.views, source), endpoints: new EndpointRunner(found.endpoints, post) };
}

port.on("message", (message: ToWorker) => {
  switch (message.t) {
    case "load": {
      const built = build(message.projectDir, message.dataDir, message.modules);
      if (!built.ok) {
        post({ t: "loadFailed", problems: built.problems });
        return;
      }
      runner = built.runner;
      endpoints = built.endpoints;
      const sweep = setInterval(() => runner?.passivate(), PASSIVATION_SWEEP_MS);
      sweep.unref();
      post({ t: "loaded", manifest: built.manifest });
      return;
    }
    case "prepare": {
      // Hot reload without a new thread: load the new version beside the running one.
      const built = build(message.projectDir, message.dataDir, message.modules);
      if (!built.ok) {
        post({ t: "prepareFailed", problems: built.problems });
        return;
      }
      prepared = { runner: built.runner, endpoints: built.endpoints };
      post({ t: "prepared", manifest: built.manifest });
      return;
    }
    case "activate":
      // Everything sent before this message has run on the old version (the pool drained first).
      if (prepared) {
        if (runner) prepared.runner.adoptCache(runner);
        runner = prepared.runner;
        endpoints = prepared.endpoints;
        prepared = undefined;
      }
      return;
    case "discard":
      prepared = undefined;
      return;
    case "command": {
      if (!runner) throw new Error("command before load");
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
    case "invalidate":
      runner?.invalidate(message.component, message.id);
      return;
    case "stop":
      source?.close();
      port.close();
      return;
  }
});
