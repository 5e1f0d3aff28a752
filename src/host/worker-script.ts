// Where the worker's code comes from: beside the bundle (build/worker.cjs), or
// the TypeScript source under tsx (tests and `node --import tsx bin/calyx.ts`).
// The single executable overrides this with an embedded script (globalThis hook).
import type { WorkerOptions } from "node:worker_threads";

export interface WorkerScript {
  readonly filename: string | URL;
  readonly options: WorkerOptions;
}

declare global {
  // Set by the single-executable entry point: the worker bundle's source text.
  var __calyxWorkerSource: string | undefined;
}

export function workerScript(): WorkerScript {
  const embedded = globalThis.__calyxWorkerSource;
  if (embedded !== undefined) return { filename: embedded, options: { eval: true } };
  const here = import.meta.url;
  if (here.endsWith(".cjs")) return { filename: new URL("./worker.cjs", here), options: {} };
  return { filename: new URL("./worker-tsx.mjs", here), options: {} };
}
