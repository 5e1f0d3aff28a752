// Runs a CommonJS bundle embedded as a SEA asset with a V8 code cache kept in
// the cache folder. Node 20 has no compile cache, and SEA's own code cache
// only covers the top level of the main script, compiled before it ran; every
// function that runs at start-up is compiled again at every start, in the main
// thread and in each worker. Here the cache is taken after start-up work
// (V8's "code cache after execute"), so it holds those functions too.
//
// The cache file is named after the asset's SHA-256 (fixed at build time):
// V8 checks only the source's length, so a content hash must choose the file.
// A missing, damaged or rejected cache costs a normal compile, nothing more.
// Two kinds: "full", taken once the process has lived CACHE_AFTER_MS (a
// server, after start-up), preferred; "exit", taken at exit by a short command
// when there is no cache at all yet, so that `--help` cannot stand in for a
// server's start-up for good.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { getAsset } from "node:sea";
import { Script } from "node:vm";
import { writeFileAtomic } from "./atomic-file.js";
import { ASSET_HASHES } from "./build-info.js";
import { versionCacheDir } from "./cache-dir.js";

/** How long after start the cache is written (if the process has not exited before). */
const CACHE_AFTER_MS = 3_000;
/** Escape hatch: CALYX_CODE_CACHE=0 compiles from source every time. */
const ENABLED = process.env["CALYX_CODE_CACHE"] !== "0";

type BundleFn = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/** Evaluates asset `key` as a CommonJS module with `require`; returns its exports. */
export function runBundle(key: string, require: NodeJS.Require): unknown {
  const source = getAsset(key, "utf8");
  const hash = ASSET_HASHES[key];
  const base = hash !== undefined && ENABLED ? join(versionCacheDir(), "code", `${key}-${hash.slice(0, 16)}-${process.arch}`) : undefined;
  const full = base === undefined ? undefined : `${base}.full.v8cache`;
  const atExit = base === undefined ? undefined : `${base}.exit.v8cache`;
  let cachedData = full === undefined ? undefined : readIfExists(full);
  const hadFull = cachedData !== undefined;
  if (cachedData === undefined && atExit !== undefined) cachedData = readIfExists(atExit);
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapped, { filename: `calyx:${key}`, ...(cachedData ? { cachedData } : {}) });
  if (full !== undefined && atExit !== undefined) {
    const rejected = script.cachedDataRejected === true;
    if (!hadFull || rejected) setTimeout(() => save(script, full, rejected), CACHE_AFTER_MS).unref();
    if (cachedData === undefined || rejected) process.once("exit", () => { if (!existsSync(full)) save(script, atExit, rejected); });
  }
  const module = { exports: {} as unknown };
  const fn = script.runInThisContext() as BundleFn;
  fn(module.exports, require, module, process.execPath, process.cwd());
  return module.exports;
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes `file` unless another thread or process has (or `replace`: its copy was rejected). */
function save(script: Script, file: string, replace: boolean): void {
  try {
    if (!replace && existsSync(file)) return;
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, script.createCachedData(), 0o644);
  } catch {
    // An unwritable cache only costs speed; the natives already reported it.
  }
}
