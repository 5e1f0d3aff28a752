// A compile cache for `node build/calyx.cjs` (what Node 22's
// `module.enableCompileCache()` does, for Node 20): CommonJS files in
// Calyx's own folder — its bundles (build/cli.cjs, build/worker-main.cjs) —
// and in the node_modules folders its packages are found in (lmdb-js,
// msgpackr, node-sql-parser, …, wherever npm put them) are compiled with a V8
// code cache kept in <cache folder>/<version>/code/node-<node version>-<arch>/
// (code-cache.ts: when it is written; CALYX_CODE_CACHE=0 turns it off). The
// project's own modules (src/host/loader.ts compiles them) and files
// elsewhere load exactly as before. Installed by the two entry points,
// build/calyx.cjs (src/cli/node-main.ts) and build/worker.cjs
// (src/host/node-worker.ts), before anything else is loaded.
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import Module from "node:module";
import { dirname, join, sep } from "node:path";
import { versionCacheDir } from "../sea/cache-dir.js";
import { cachedScript, CODE_CACHE_ENABLED } from "./code-cache.js";

type CompiledWrapper = (this: unknown, exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => unknown;

interface ModuleInternals {
  _compile(content: string, filename: string): unknown;
  require(id: string): unknown;
  exports: unknown;
}
interface ModuleStatics {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: { paths?: string[] }): string;
  _resolveLookupPaths(request: string, parent: unknown): string[] | null;
  _extensions: NodeJS.RequireExtensions;
  _cache: NodeJS.Require["cache"];
  _nodeModulePaths(from: string): string[];
}

function statics(): ModuleStatics {
  return Module as unknown as ModuleStatics;
}

/** The folder the caches of this Node and architecture go to. */
export function compileCacheDir(): string {
  return join(versionCacheDir(), "code", `node-${process.version}-${process.arch}`);
}

/**
 * A script compiled from a code cache loses its `import()` callback on Node
 * 20 (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING once the cache is used; and the
 * callback that would serve it, vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
 * prints an experimental warning). Files that may call import() — any
 * `import(` in their text, comments and strings included — are compiled as
 * Node compiles them.
 */
const DYNAMIC_IMPORT = /\bimport\s*\(/;

/**
 * Compiles, from now on, the CommonJS files in the folder above `entryDir`
 * (the package: build/ is `entryDir`) and in the node_modules folders a
 * module in `entryDir` resolves packages from, with a code cache. Returns
 * false (and changes nothing) when the cache is turned off.
 */
export function installCompileCache(entryDir: string): boolean {
  if (!CODE_CACHE_ENABLED) return false;
  const withSep = (dir: string): string => (dir.endsWith(sep) ? dir : dir + sep);
  // Node names modules by their real path: a node_modules that is a symlink (a worktree's, a linked install) counts as where it points.
  const folders = [dirname(entryDir), ...statics()._nodeModulePaths(entryDir)];
  const prefixes = [...new Set(folders.flatMap((f) => [f, realFolder(f)]).filter((f) => f !== undefined).map(withSep))];
  const dir = compileCacheDir();
  const proto = Module.prototype as unknown as ModuleInternals;
  const original = proto._compile;
  proto._compile = function compile(this: ModuleInternals, content: string, filename: string): unknown {
    if (!prefixes.some((p) => filename.startsWith(p)) || DYNAMIC_IMPORT.test(content)) return original.call(this, content, filename);
    // One name per file (its path) and content: a rebuilt bundle gets a new cache, and the old one is deleted when it is written.
    const name = `${hashHex(filename).slice(0, 12)}-`;
    const base = join(dir, `${name}${hashHex(content).slice(0, 24)}`);
    // A shebang line is only valid at the start of a file, not inside the wrapper.
    const body = content.startsWith("#!") ? "//" + content.slice(2) : content;
    const script = cachedScript(Module.wrap(body), filename, { base, stalePrefix: name });
    const wrapper = script.runInThisContext({ displayErrors: true }) as CompiledWrapper;
    return wrapper.call(this.exports, this.exports, requireFor(this, statics()), this as unknown as Module, filename, dirname(filename));
  };
  return true;
}

function realFolder(dir: string): string | undefined {
  try {
    return realpathSync(dir);
  } catch {
    return undefined; // most of the ancestors' node_modules do not exist
  }
}

function hashHex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The `require` a module's code sees, as Node's loader makes it (resolution relative to the module). */
function requireFor(module: ModuleInternals, statics: ModuleStatics): NodeJS.Require {
  const require = ((id: string) => module.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: { paths?: string[] }) => statics._resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => statics._resolveLookupPaths(request, module);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = statics._extensions;
  require.cache = statics._cache;
  return require;
}
