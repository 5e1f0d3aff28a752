// V8 code caches for Calyx's own JavaScript. Node 20 has no compile cache
// (`module.enableCompileCache` is Node 22), so every function that runs at
// start-up would be compiled again at every start, in the main thread and in
// each worker. Two users: the single executable runs its embedded bundles
// through `cachedScript` (src/sea/code-cache.ts), and `node build/calyx.cjs`
// compiles the bundles and the npm packages of Calyx's own folder through
// `installCompileCache` (src/cli/compile-cache.ts).
//
// The cache is taken after start-up work (V8's "code cache after execute"),
// so it holds the functions start-up ran, not only the top level. V8 checks
// only the source's length against a cache: the caller names the file after a
// content hash. A missing, damaged or rejected cache costs a normal compile,
// nothing more. Two kinds of file: "full", taken once the process has lived
// CACHE_AFTER_MS (a server, after start-up), preferred; "exit", taken at exit
// by a short command when there is no cache at all yet, so that `--help`
// cannot stand in for a server's start-up for good.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";
import { threadId } from "node:worker_threads";
import { writeFileAtomic } from "../sea/atomic-file.js";
import { startupTrace } from "./startup-trace.js";

/** How long after start the cache is written (if the process has not exited before). */
export const CACHE_AFTER_MS = 3_000;
/** Escape hatch: CALYX_CODE_CACHE=0 compiles from source every time. */
export const CODE_CACHE_ENABLED = process.env["CALYX_CODE_CACHE"] !== "0";

export interface CachedScriptOptions {
  /** Where the caches go: `${base}.full.v8cache` and `${base}.exit.v8cache`; undefined: no cache. */
  readonly base: string | undefined;
  /** When a cache is written, other files in its folder whose names start with this are deleted (older builds of the same file). */
  readonly stalePrefix?: string;
}

interface Pending {
  readonly script: Script;
  readonly full: string;
  readonly atExit: string;
  /** Its cache was there but V8 refused it (another Node, other flags): write over it. */
  readonly rejected: boolean;
  /** Write a full cache after CACHE_AFTER_MS (none was there, or it was refused). */
  readonly wantFull: boolean;
  /** Write an exit cache at exit if there is no full one then (it had no cache at all). */
  readonly wantExit: boolean;
  readonly stalePrefix: string | undefined;
  /** Its full cache has had its turn. */
  fullDone: boolean;
}

/** Scripts whose caches are still to be written: one timer and one exit listener for all of them. */
const pending: Pending[] = [];

interface CodeCacheStats {
  /** Compiled from a cache. */
  hits: number;
  /** Compiled without one (none yet). */
  misses: number;
  /** Compiled without one because V8 refused it. */
  rejected: number;
}

declare global {
  // This thread's counts, shared by every bundle that holds a copy of this module (the entry point's and the CLI's).
  var __calyxCodeCacheStats: CodeCacheStats | undefined;
}

const stats: CodeCacheStats = (globalThis.__calyxCodeCacheStats ??= { hits: 0, misses: 0, rejected: 0 });

/** This thread's counts so far (CALYX_TRACE_STARTUP prints them). */
export function codeCacheStats(): Readonly<CodeCacheStats> {
  return { ...stats };
}

/** The counts as the start-up trace shows them. */
export function describeCodeCache(): string {
  return `code cache: ${stats.hits} hits, ${stats.misses} misses, ${stats.rejected} refused`;
}

/** Compiles `source` (already wrapped as a function expression) with the cache at `base`, and arranges for the cache to be written. */
export function cachedScript(source: string, filename: string, options: CachedScriptOptions): Script {
  const { base } = options;
  const full = base === undefined ? undefined : `${base}.full.v8cache`;
  const atExit = base === undefined ? undefined : `${base}.exit.v8cache`;
  let cachedData = full === undefined ? undefined : readIfExists(full);
  const hadFull = cachedData !== undefined;
  if (cachedData === undefined && atExit !== undefined) cachedData = readIfExists(atExit);
  const script = new Script(source, { filename, ...(cachedData ? { cachedData } : {}) });
  if (full !== undefined && atExit !== undefined) {
    const rejected = script.cachedDataRejected === true;
    if (rejected) stats.rejected++;
    else if (cachedData !== undefined) stats.hits++;
    else stats.misses++;
    const entry: Pending = { script, full, atExit, rejected, wantFull: !hadFull || rejected, wantExit: cachedData === undefined || rejected, stalePrefix: options.stalePrefix, fullDone: false };
    if (entry.wantFull || entry.wantExit) schedule(entry);
  }
  return script;
}

/** A timer is set to write the full caches of what is pending. */
let timerSet = false;
let exitHooked = false;

/** Full caches CACHE_AFTER_MS after a script is compiled (a file loaded late, say on the first query, gets its own turn); exit caches at exit. */
function schedule(entry: Pending): void {
  pending.push(entry);
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", () => { for (const p of pending) if (p.wantExit && !existsSync(p.full)) save(p, p.atExit); });
  }
  if (timerSet) return;
  timerSet = true;
  setTimeout(() => {
    timerSet = false;
    let written = 0;
    for (const p of pending) {
      if (!p.wantFull || p.fullDone) continue;
      p.fullDone = true;
      if (save(p, p.full)) written++;
    }
    startupTrace(`${threadId === 0 ? "main thread" : `worker ${threadId}`}: ${written} code caches in place`);
  }, CACHE_AFTER_MS).unref();
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes `file` unless another thread or process has (or its cache was refused); true when it is there now. */
function save(p: Pending, file: string): boolean {
  try {
    if (!p.rejected && existsSync(file)) return true;
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, p.script.createCachedData(), 0o644);
    if (p.stalePrefix !== undefined) removeStale(dirname(file), p.stalePrefix, basename(file));
    return true;
  } catch {
    // An unwritable cache only costs speed.
    return false;
  }
}

/** Deletes the caches of older contents of the same file (they can never be used again). */
function removeStale(dir: string, prefix: string, keep: string): void {
  const current = keep.replace(/\.(full|exit)\.v8cache$/, "");
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || name.startsWith(current) || !name.endsWith(".v8cache")) continue;
    rmSync(join(dir, name), { force: true });
  }
}
