// Where the executable keeps what it cannot use from inside itself: native
// addons (dlopen needs a real file) and projects embedded by `calyx build`.
// One folder per Calyx version, so that deleting an old version's files is one
// `rm -r`; the files inside are named by content hash, so two builds of the
// same version never load each other's files.
import { accessSync, constants, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { VERSION } from "../cli/version.js";
import { SeaError } from "./errors.js";

/** The variable that overrides the cache root. */
export const CACHE_DIR_ENV = "CALYX_CACHE_DIR";

/** $CALYX_CACHE_DIR, else $XDG_CACHE_HOME/calyx, else ~/.cache/calyx. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[CACHE_DIR_ENV];
  if (explicit) return resolve(explicit);
  const xdg = env["XDG_CACHE_HOME"];
  if (xdg) return join(resolve(xdg), "calyx");
  return join(homedir(), ".cache", "calyx");
}

/** The cache folder of this Calyx version (not created). */
export function versionCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), VERSION);
}

/** Creates `dir` (and parents) and checks it is writable, or explains what to do. */
export function prepareCacheDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SeaError("ERR_CACHE_NOT_WRITABLE",
      `cannot write to the cache folder ${dir} (${reason}); Calyx unpacks its native libraries there on first start. ` +
      `Set ${CACHE_DIR_ENV} to a writable folder (for example ${CACHE_DIR_ENV}=/var/cache/calyx).`, { cause: error });
  }
}
