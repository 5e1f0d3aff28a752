// Bundles the runtime with esbuild: build/calyx.cjs (CLI + main thread) and
// build/worker.cjs (worker threads). npm packages stay external here; the
// single-executable build (scripts/package.mjs) bundles them too.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { apiTypes } from "./api-types.mjs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
} catch { /* not a git checkout */ }

export const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  // yargs and our worker-script lookup use import.meta.url; CJS has __filename.
  define: { "import.meta.url": "__calyx_import_meta_url", __CALYX_VERSION__: JSON.stringify(pkg.version), __CALYX_COMMIT__: JSON.stringify(commit) },
  banner: { js: "const __calyx_import_meta_url = require('url').pathToFileURL(__filename).href;" },
};

export async function buildRuntime({ outdir = "build", external = true } = {}) {
  // `calyx new` writes these declarations into new projects, for their editors.
  const cliDefine = { ...common.define, __CALYX_API_TYPES__: JSON.stringify(JSON.stringify(apiTypes())) };
  await Promise.all([
    build({ ...common, define: cliDefine, entryPoints: { calyx: "bin/calyx.ts" }, outdir, outExtension: { ".js": ".cjs" }, packages: external ? "external" : undefined,
}),
    build({ ...common, entryPoints: { worker: "src/host/worker-main.ts" }, outdir, outExtension: { ".js": ".cjs" }, packages: external ? "external" : undefined }),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildRuntime();
}
