// Starting worker threads, and starting them early. A thread's boot (Node's
// bootstrap of a thread, the worker bundle, lmdb-js and msgpackr) is the
// longest part of `calyx run`'s start-up, so the threads are started before
// anything else needs them: by the entry point (build/calyx.cjs, the
// executable's CLI) as soon as it sees a `run` or `dev` command, and
// otherwise by serve() before it loads the runtime. The first pool takes them.
// This module is bundled into the entry points and into the CLI, so the
// threads started ahead are kept on globalThis, where every copy sees them.
import { closeSync, openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
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

/**
 * The variable that tells lmdb-js's native loader (node-gyp-build-optional-
 * packages) the C library, which it otherwise works out in every thread with
 * detect-libc — loading child_process, net and dgram into each worker (≈ 6 ms
 * of a worker's boot here, Node compiling them again per thread). A worker of
 * `node build/calyx.cjs` gets it with LIBC_SET_BY_CALYX and removes both
 * before the project loads (src/host/node-worker.ts): user code never sees them.
 */
export const LIBC_SET_BY_CALYX = "CALYX_LIBC_HINT";

export function startWorker(heapMb: number): Worker {
  const script = workerScript();
  const libc = script.filename instanceof URL && script.filename.pathname.endsWith("/worker.cjs") && process.env["LIBC"] === undefined ? libcFamily() : undefined;
  const env = libc === undefined ? {} : { env: { ...process.env, LIBC: libc, [LIBC_SET_BY_CALYX]: "1" } };
  const worker = new Worker(script.filename, { ...script.options, ...env, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
  worker.unref();
  return worker;
}

/**
 * How many of a server's `workers` threads load the project before it
 * listens: as many as leave a core to the main thread, at least one. The
 * others start once it listens (Runtime.startRemainingWorkers) and take
 * their share of the entities when they have loaded. On two cores, a second
 * worker booting beside the first and the main thread (three threads on two
 * cores) put ≈ 50 ms on the time to the first response (docs/host.md "Start-up").
 */
export function workersAtStart(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(workers, cores - 1));
}

let libcKnown: "glibc" | "musl" | undefined | null = null;

/** glibc or musl, from this process's ELF interpreter (as detect-libc reads it first); undefined when that does not tell. */
export function libcFamily(): "glibc" | "musl" | undefined {
  if (libcKnown !== null) return libcKnown;
  libcKnown = undefined;
  if (process.platform !== "linux") return libcKnown;
  try {
    const head = Buffer.alloc(2048);
    const fd = openSync("/proc/self/exe", "r");
    let read = 0;
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    libcKnown = libcFamilyOf(head.subarray(0, read));
  } catch {
    // Unreadable: the native loader finds out itself.
  }
  return libcKnown;
}

/** The family named by the program interpreter in the start of an ELF file. */
export function libcFamilyOf(elfHead: Buffer): "glibc" | "musl" | undefined {
  const text = elfHead.toString("latin1");
  const musl = text.includes("/ld-musl-");
  const glibc = /\/ld-linux[-.a-z0-9_]*\.so\.\d/.test(text);
  return musl === glibc ? undefined : musl ? "musl" : "glibc";
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
