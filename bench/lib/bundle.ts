// Bundles the load generator and the baseline servers to plain CommonJS with
// esbuild, so that they start without a TypeScript loader: the generator stays
// light and the baselines' start-up time is not inflated by tsx. npm packages
// stay external and resolve from the repository's node_modules.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, TMP_DIR } from "./paths.js";

export const BUNDLE_DIR = join(TMP_DIR, "bundle");

const ENTRIES = {
  loadgen: join(BENCH_DIR, "lib", "loadgen-main.ts"),
  "uws-hello": join(BENCH_DIR, "baselines", "uws-hello.ts"),
  "fastify-sqlite": join(BENCH_DIR, "baselines", "fastify-sqlite.ts"),
} as const;

export type BundleName = keyof typeof ENTRIES;

let built: Promise<void> | undefined;

/** Builds every bundle once per driver process. */
export function ensureBundles(): Promise<void> {
  built ??= (async () => {
    mkdirSync(BUNDLE_DIR, { recursive: true });
    await build({
      entryPoints: ENTRIES, outdir: BUNDLE_DIR, outExtension: { ".js": ".cjs" }, bundle: true, platform: "node",
      format: "cjs", target: "node20", packages: "external", sourcemap: "linked", logLevel: "warning",
      // CommonJS has no import.meta.url; the baselines use it for createRequire.
      define: { "import.meta.url": "__bench_import_meta_url" },
      banner: { js: "const __bench_import_meta_url = require('url').pathToFileURL(__filename).href;" },
    });
  })();
  return built;
}

export function bundlePath(name: BundleName): string {
  return join(BUNDLE_DIR, `${name}.cjs`);
}
