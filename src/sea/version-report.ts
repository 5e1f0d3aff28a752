// `calyx --version`: what is inside this calyx — its own version and commit,
// and the versions of Node, LMDB and uWebSockets.js it runs on. Loading the
// two natives here also proves they load (the line says why when one doesn't).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { VERSION } from "../cli/version.js";
import { COMMIT, DEP_VERSIONS, NATIVES } from "./build-info.js";
import { versionCacheDir } from "./cache-dir.js";

/**
 * The multi-line report printed by `calyx --version`.
 *
 * @example
 *   process.stdout.write(await versionReport() + "\n");
 *   // calyx 0.1.0 (commit 26ef75d)
 *   // node v20.20.2 (ABI 115, linux-x64)
 *   // lmdb-js 3.5.6 (LMDB 0.9.90)
 *   // uWebSockets.js 20.30.0-unofficial.0 (native)
 *   // cache /root/.cache/calyx/0.1.0   (single executable only)
 */
export async function versionReport(): Promise<string> {
  const inExecutable = Object.keys(NATIVES).length > 0;
  const lines = [
    `calyx ${VERSION} (commit ${COMMIT})`,
    `node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch})`,
    await lmdbLine(),
    await uwsLine(),
  ];
  if (inExecutable) lines.push(`cache ${versionCacheDir()}`);
  return lines.join("\n");
}

// The natives are loaded with require: in the bundles esbuild's (in the
// executable it resolves to the embedded natives), from source (ESM) one made
// by createRequire. Not import(): under `node build/calyx.cjs` a file whose
// text holds one is compiled without the code cache (src/cli/compile-cache.ts),
// and this one is part of the CLI bundle.

async function lmdbLine(): Promise<string> {
  const pkg = packageVersion("lmdb");
  try {
    const lmdb = (typeof require === "function" ? require("lmdb") : createRequire(import.meta.url)("lmdb")) as { version?: { versionString?: string } };
    const native = lmdb.version?.versionString?.replace(/:.*$/, "") ?? "unknown";
    return `lmdb-js ${pkg} (${native})`;
  } catch (error) {
    return `lmdb-js ${pkg} (native library not loadable: ${reason(error)})`;
  }
}

async function uwsLine(): Promise<string> {
  const pkg = packageVersion("uWebSockets.js");
  try {
    const uws = (typeof require === "function" ? require("uWebSockets.js") : createRequire(import.meta.url)("uWebSockets.js")) as { App?: unknown };
    return `uWebSockets.js ${pkg} (${typeof uws.App === "function" ? "native" : "unexpected exports"})`;
  } catch (error) {
    return `uWebSockets.js ${pkg} (native library not loadable: ${reason(error)})`;
  }
}

/** From the build (single executable), else from node_modules. */
function packageVersion(name: string): string {
  const built = DEP_VERSIONS[name];
  if (built !== undefined) return built;
  try {
    const require = createRequire(import.meta.url);
    // lmdb's "exports" hides package.json; walk up from its entry point.
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (pkg.version !== undefined && (pkg.name === name || name === "uWebSockets.js")) return pkg.version;
      } catch { /* not here: go up */ }
    }
  } catch { /* not installed */ }
  return "unknown";
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] ?? error.message : String(error);
}
