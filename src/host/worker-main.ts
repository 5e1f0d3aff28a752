// Entry point of a worker thread: loads the project's modules, then runs the
// commands the main thread routes to it, one message at a time.
import { parentPort } from "node:worker_threads";
import * as calyx from "../api/index.js";
import { discover } from "./discovery.js";
import { EndpointRunner } from "./endpoint-runner.js";
import { EntityRunner } from "./entity-runner.js";
import { ModuleLoader, ProjectLoadError } from "./loader.js";
import type { FromWorker, ProjectProblem, ToWorker } from "./messages.js";
import { componentFiles } from "./project-files.js";
import { openStateSource, type ClosableStateSource } from "./state-source.js";

const port = parentPort;
if (!port) throw new Error("worker-main.ts must run in a worker thread");

const PASSIVATION_SWEEP_MS = 10_000;

let runner: EntityRunner | undefined;
let endpoints: EndpointRunner | undefined;
let source: ClosableStateSource | undefined;

function post(message: FromWorker): void {
  port?.postMessage(message);
}

function load(projectDir: string, dataDir: string, sources: Readonly<Record<string, string>>): void {
  const loader = new ModuleLoader(projectDir, { calyx }, sources);
  const problems: ProjectProblem[] = [];
  const modules: { file: string; exports: Record<string, unknown> }[] = [];
  for (const file of componentFiles(projectDir, Object.keys(sources))) {
    try {
      modules.push({ file, exports: loader.load(file) });
    } catch (error) {
      if (error instanceof ProjectLoadError) problems.push(error.problem);
      else throw error;
    }
  }
  const found = discover(projectDir, modules);
  problems.push(...found.problems);
  if (problems.length > 0) {
    post({ t: "loadFailed", problems });
    return;
  }
  source = openStateSource(dataDir);
  runner = new EntityRunner(found.entities, found.views, source);
  endpoints = new EndpointRunner(found.endpoints, post);
  const sweep = setInterval(() => runner?.passivate(), PASSIVATION_SWEEP_MS);
  sweep.unref();
  post({ t: "loaded", manifest: found.manifest });
}

port.on("message", (message: ToWorker) => {
  switch (message.t) {
    case "load":
      load(message.projectDir, message.dataDir, message.sources);
      return;
    case "command": {
      if (!runner) throw new Error("command before load");
      const { write, reply } = runner.run(message.component, message.id, message.command, message.body, message.request);
      post({ t: "result", reqId: message.reqId, write, reply });
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
