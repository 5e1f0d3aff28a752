// Runs a CommonJS bundle embedded as a SEA asset with a V8 code cache kept in
// the cache folder (src/cli/code-cache.ts: when it is taken, and why). SEA's
// own code cache only covers the top level of the main script, compiled
// before it ran. The cache file is named after the asset's SHA-256, fixed at
// build time.
import { join } from "node:path";
import { getAsset } from "node:sea";
import { cachedScript, CODE_CACHE_ENABLED } from "../cli/code-cache.js";
import { ASSET_HASHES } from "./build-info.js";
import { versionCacheDir } from "./cache-dir.js";

type BundleFn = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/** Evaluates asset `key` as a CommonJS module with `require`; returns its exports. */
export function runBundle(key: string, require: NodeJS.Require): unknown {
  const source = getAsset(key, "utf8");
  const hash = ASSET_HASHES[key];
  const base = hash !== undefined && CODE_CACHE_ENABLED ? join(versionCacheDir(), "code", `${key}-${hash.slice(0, 16)}-${process.arch}`) : undefined;
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = cachedScript(wrapped, `calyx:${key}`, { base });
  const module = { exports: {} as unknown };
  const fn = script.runInThisContext() as BundleFn;
  fn(module.exports, require, module, process.execPath, process.cwd());
  return module.exports;
}
