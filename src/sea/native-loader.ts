// Loads the native addons (lmdb, uWS) inside the single executable. A .node
// file cannot be dlopen'ed from memory, so each is written once to the cache
// folder under a content-hashed name and loaded from there. The esbuild plugin
// in scripts/sea/plugin.mjs points `uWebSockets.js` and lmdb's
// `node-gyp-build-optional-packages` here, in the main bundle and in the worker
// bundle alike: worker threads run this same code (each thread has its own
// `loaded` map; the process shares the dlopen'ed library).
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { getAsset } from "node:sea";
import { gunzipSync } from "node:zlib";
import { writeFileAtomic } from "./atomic-file.js";
import { NATIVES, type NativeAsset } from "./build-info.js";
import { prepareCacheDir, versionCacheDir } from "./cache-dir.js";
import { SeaError } from "./errors.js";

const loaded = new Map<string, unknown>();

/** `lmdb-<first 16 hex of sha256>.node`: a different build never reuses the file. */
export function nativeFileName(name: string, native: NativeAsset): string {
  return `${name}-${native.sha256.slice(0, 16)}.node`;
}

/** The exports of native addon `name` ("lmdb", "uws"), loaded once per thread. */
export function loadNative(name: string): unknown {
  const hit = loaded.get(name);
  if (hit !== undefined) return hit;
  const file = ensureNative(name);
  let exports: unknown;
  try {
    exports = dlopen(file);
  } catch (error) {
    // A damaged cached copy (same size, other bytes) heals itself; anything else is reported.
    if (!repair(name, file)) throw loadError(name, file, error);
    try {
      exports = dlopen(file);
    } catch (again) {
      throw loadError(name, file, again);
    }
  }
  loaded.set(name, exports);
  return exports;
}

function dlopen(file: string): unknown {
  const module = { exports: {} as unknown };
  process.dlopen(module, file);
  return module.exports;
}

/** Rewrites `file` from the embedded copy if its content is not what was embedded; true if it did. */
function repair(name: string, file: string): boolean {
  const native = NATIVES[name];
  if (native === undefined) return false;
  let actual: string;
  try {
    actual = createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch {
    return false;
  }
  if (actual === native.sha256) return false;
  writeFileAtomic(file, readNativeAsset(native), 0o755);
  return true;
}

function loadError(name: string, file: string, error: unknown): SeaError {
  const reason = error instanceof Error ? error.message : String(error);
  let hint = "";
  if (/operation not permitted|failed to map segment/i.test(reason)) hint = " The cache folder may be on a noexec mount: set CALYX_CACHE_DIR to a folder where libraries may be loaded.";
  else if (/GLIBC_|GLIBCXX_/.test(reason)) hint = " This machine's C library is older than the one the executable was built for: build calyx on a system at least as old as the oldest one it must run on.";
  return new SeaError("ERR_NATIVE_LOAD", `cannot load the ${name} native library from ${file}: ${reason}.${hint}`, { cause: error });
}

/** Makes sure native `name` is in the cache folder; returns its path. */
export function ensureNative(name: string): string {
  const native = NATIVES[name];
  if (native === undefined) throw new SeaError("ERR_ASSET_MISSING", `this executable was built without the ${name} native library; rebuild it with scripts/package.mjs`);
  const dir = versionCacheDir();
  const file = join(dir, nativeFileName(name, native));
  // Renames are atomic, so a file of the right size is a complete one.
  if (sizeOf(file) === native.bytes) return file;
  prepareCacheDir(dir);
  const data = readNativeAsset(native);
  const sha256 = createHash("sha256").update(data).digest("hex");
  if (sha256 !== native.sha256 || data.byteLength !== native.bytes) {
    throw new SeaError("ERR_ASSET_MISSING", `the embedded ${name} native library is damaged (sha256 ${sha256}, expected ${native.sha256}); rebuild the executable`);
  }
  try {
    writeFileAtomic(file, data, 0o755);
  } catch (error) {
    // prepareCacheDir passed, so this is a full disk or a read-only mount.
    prepareCacheDir(dir);
    throw new SeaError("ERR_CACHE_NOT_WRITABLE", `cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); set CALYX_CACHE_DIR to a writable folder`, { cause: error });
  }
  return file;
}

/** Unpacks every embedded native (start-up does this so failures come first and clearly). */
export function ensureNatives(): string[] {
  return Object.keys(NATIVES).map((name) => ensureNative(name));
}

function readNativeAsset(native: NativeAsset): Uint8Array {
  const stored = readAsset(native.asset);
  if (native.compression === "none") return stored;
  try {
    return gunzipSync(stored);
  } catch (error) {
    throw new SeaError("ERR_ASSET_MISSING", `the embedded native ${native.asset} does not decompress (${(error as Error).message}); rebuild the executable`, { cause: error });
  }
}

function readAsset(key: string): Uint8Array {
  try {
    return new Uint8Array(getAsset(key));
  } catch (error) {
    throw new SeaError("ERR_ASSET_MISSING", `this executable has no asset ${key}; rebuild it`, { cause: error });
  }
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}
