// Starting worker threads, and starting them early. A thread's boot (Node's
// bootstrap of a thread, the worker bundle, lmdb-js and msgpackr) is the
// longest part of `calyx run`'s start-up, so the threads are started before
// anything else needs them: by the entry point (build/calyx.cjs, the
// executable's CLI) as soon as it sees a `run` or `dev` command, and
// otherwise by serve() before it loads the runtime. The first pool takes them.
// This module is bundled into the entry points and into the CLI, so the
// threads started ahead are kept on globalThis, where every copy sees them.
import { Worker } from "node:worker_threads";
import { workerScript } from "./worker-script.js";

/** A worker's heap limit unless the runtime is told otherwise (RUNTIME_DEFAULTS.workerHeapMb). */
export const WORKER_HEAP_MB_DEFAULT = 256;

interface Prebooted {
  readonly worker: Worker;
  readonly heapMb: number;
}

declare global {
  // Worker threads started ahead of the first pool, shared by every bundle of this process.
  var __calyxPrebooted: Prebooted[] | undefined;
}

function prebooted(): Prebooted[] {
  return (globalThis.__calyxPrebooted ??= []);
}

export function startWorker(heapMb: number): Worker {
  const script = workerScript();
  const worker = new Worker(script.filename, { ...script.options, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
  worker.unref();
  return worker;
}

/**
 * Makes sure `count` threads with this heap limit are booting for the first
 * pool to take (starting only those not started yet). A pool takes only
 * threads started with its heap limit; discardPrebooted() stops the rest.
 */
export function bootWorkers(count: number, heapMb = WORKER_HEAP_MB_DEFAULT): void {
  const list = prebooted();
  const have = list.filter((p) => p.heapMb === heapMb).length;
  for (let i = have; i < count; i++) list.push({ worker: startWorker(heapMb), heapMb });
}

/** A thread started ahead with this heap limit, if there is one left. */
export function takePrebooted(heapMb: number): Worker | undefined {
  const list = prebooted();
  const i = list.findIndex((p) => p.heapMb === heapMb);
  return i < 0 ? undefined : list.splice(i, 1)[0]?.worker;
}

/** Stops the threads started ahead that no pool took. */
export function discardPrebooted(): void {
  for (const p of prebooted().splice(0)) void p.worker.terminate();
}
