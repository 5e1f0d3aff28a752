// Bundles the runtime with esbuild: build/cli.cjs (CLI + main thread) and
// build/worker-main.cjs (worker threads), each behind a small entry point —
// build/calyx.cjs and build/worker.cjs — that compiles them (and the npm
// packages they load) through a V8 code cache, and for `run`/`dev` starts the
// worker threads first (src/cli/node-main.ts). npm packages stay external
// here; the single-executable build (scripts/package.mjs) bundles them too.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { apiTypes } from "./api-types.mjs";
import { nativeRedirectPlugin } from "./sea/plugin.mjs";

/** npm packages the CLI bundle loads from node_modules (natives, big parsers, test-only tools). */
const CLI_EXTERNAL = ["lmdb", "uWebSockets.js", "sucrase", "node-sql-parser", "ws", "msgpackr", "better-sqlite3", "typescript", "esbuild", "bufferutil", "utf-8-validate"];

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
} catch { /* not a git checkout */ }

/**
 * What the parse of a view's SQL depends on: the query compiler's sources and
 * node-sql-parser's version. The view SQL cache (src/host/view-sql-cache.ts)
 * keeps parses of this build only, so a changed compiler never reads the
 * parses of an older one — even within one version number.
 */
function queryBuildId() {
  const root = new URL("..", import.meta.url).pathname;
  const hash = createHash("sha256").update(JSON.parse(readFileSync(join(root, "node_modules/node-sql-parser/package.json"), "utf8")).version);
  const files = readdirSync(join(root, "src/query"), { recursive: true }).filter((f) => f.endsWith(".ts")).sort();
  for (const f of files) hash.update(`\0${f}\0`).update(readFileSync(join(root, "src/query", f)));
  return hash.digest("hex").slice(0, 16);
}

export const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  // yargs and our worker-script lookup use import.meta.url; CJS has __filename.
  define: { "import.meta.url": "__calyx_import_meta_url", __CALYX_VERSION__: JSON.stringify(pkg.version), __CALYX_COMMIT__: JSON.stringify(commit), __CALYX_QUERY_BUILD__: JSON.stringify(queryBuildId()) },
  banner: { js: "const __calyx_import_meta_url = require('url').pathToFileURL(__filename).href;" },
};

export async function buildRuntime({ outdir = "build", external = true } = {}) {
  // `calyx new` writes these declarations into new projects, for their editors.
  const cliDefine = { ...common.define, __CALYX_API_TYPES__: JSON.stringify(JSON.stringify(apiTypes())) };
  await Promise.all([
    // The CLI bundles yargs and its layout helpers so string-width gets the same
    // printable-ASCII fast path as in the executable (yargs lays out its whole
    // help text at every start); packages with natives or large data stay external.
    build({ ...common, define: cliDefine, entryPoints: { cli: "bin/calyx.ts" }, outdir, outExtension: { ".js": ".cjs" },
      external: external ? CLI_EXTERNAL : [],
      plugins: [nativeRedirectPlugin({ natives: {}, stubs: [], asciiWidth: ["string-width"] })] }),
    build({ ...common, entryPoints: { "worker-main": "src/host/worker-main.ts" }, outdir, outExtension: { ".js": ".cjs" }, packages: external ? "external" : undefined }),
    build({ ...common, entryPoints: { calyx: "src/cli/node-main.ts", worker: "src/host/node-worker.ts" }, outdir, outExtension: { ".js": ".cjs" }, packages: "external" }),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildRuntime();
}
