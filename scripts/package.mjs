// Builds the single executable dist/calyx (DESIGN §8), offline, configured by
// pkg.config.json. Node's SEA support, as DEPENDENCIES.md describes:
//   1. bundle the CLI (src/sea/cli.ts) and the worker (src/sea/worker.ts) with
//      every npm package inside, natives redirected to src/sea/native-loader.ts;
//      then the small loaders that run them with a code cache: the SEA main
//      (src/sea/main.ts) and the workers' bootstrap (src/sea/worker-boot.ts);
//   2. embed the bundles and the .node files as SEA assets;
//   3. blob → copy of this node → strip → postject → dist/calyx;
//   4. smoke-check: the new executable prints its --version.
// Usage: node scripts/package.mjs [--config pkg.config.json] [--no-check]
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { apiTypes } from "./api-types.mjs";
import { common } from "./build.mjs";
import { checkHostMatches, expandAssets, loadConfig } from "./sea/config.mjs";
import { injectBlob, prepareBlob } from "./sea/inject.mjs";
import { acquireLock } from "./sea/lock.mjs";
import { collectNatives, glibcNeeded, packageVersions } from "./sea/natives.mjs";
import { nativeRedirectPlugin } from "./sea/plugin.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** api-types.mjs reads src/api relative to the working folder. */
function inRoot(fn) {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    return fn();
  } finally {
    process.chdir(cwd);
  }
}

/** Builds the executable; returns what it made. */
export async function packageExecutable({ configFile = "pkg.config.json", check = true, log = (line) => process.stdout.write(line + "\n") } = {}) {
  const started = performance.now();
  const config = loadConfig(ROOT, configFile);
  checkHostMatches(config.target);
  mkdirSync(dirname(config.workDir), { recursive: true });
  const release = await acquireLock(`${config.workDir}.lock`, log);
  try {
    return await packageLocked(config, { check, log, started });
  } finally {
    release();
  }
}

async function packageLocked(config, { check, log, started }) {
  rmSync(config.workDir, { recursive: true, force: true });
  mkdirSync(config.workDir, { recursive: true });
  mkdirSync(config.outputPath, { recursive: true });

  const natives = collectNatives(ROOT, config.workDir, config.natives);
  const nativesForBundle = Object.fromEntries(Object.entries(natives).map(([n, { asset, compression, sha256, bytes }]) => [n, { asset, compression, sha256, bytes }]));
  const options = {
    ...common,
    packages: undefined,
    sourcemap: false,
    external: config.external,
    define: {
      ...common.define,
      __CALYX_NATIVES__: JSON.stringify(nativesForBundle),
      __CALYX_DEP_VERSIONS__: JSON.stringify(packageVersions(ROOT, config.versionsOf)),
    },
    plugins: [nativeRedirectPlugin({ natives: config.natives, stubs: config.stubs, asciiWidth: config.asciiWidth })],
    logLevel: "error",
  };
  // The CLI and worker bundles first: the small loaders that run them (the SEA
  // main and the worker bootstrap) carry their hashes, which name their code caches.
  // Same defines as scripts/build.mjs gives build/calyx.cjs (`calyx new` writes these declarations).
  const bundleOptions = { ...options, define: { ...options.define, __CALYX_API_TYPES__: JSON.stringify(JSON.stringify(inRoot(apiTypes))) } };
  await Promise.all(Object.entries(config.bundles).map(([name, entry]) => build({ ...bundleOptions, entryPoints: [entry], outfile: join(config.workDir, name) })));
  const hashes = Object.fromEntries(Object.keys(config.bundles).map((name) => [name, createHash("sha256").update(readFileSync(join(config.workDir, name))).digest("hex")]));
  const loaderOptions = { ...options, define: { ...options.define, __CALYX_ASSET_HASHES__: JSON.stringify(hashes) } };
  await Promise.all([
    build({ ...loaderOptions, entryPoints: [config.main], outfile: config.mainOut }),
    ...Object.entries(config.loaders).map(([name, entry]) => build({ ...loaderOptions, entryPoints: [entry], outfile: join(config.workDir, name) })),
  ]);

  const assetFiles = expandAssets(ROOT, config.assets);
  const assets = Object.fromEntries(assetFiles.map((f) => [relative(config.workDir, f).split(sep).join("/"), f]));
  for (const key of [...Object.keys(config.bundles), ...Object.keys(config.loaders), ...Object.values(natives).map((n) => n.asset)]) {
    if (!(key in assets)) throw new Error(`${config.path}: pkg.assets does not include ${key} (under ${relative(ROOT, config.workDir)})`);
  }
  const blob = prepareBlob({ workDir: config.workDir, main: config.mainOut, assets, useCodeCache: config.useCodeCache });
  const { stripped } = injectBlob({ root: ROOT, blob, output: config.output });

  let version = "";
  if (check) {
    // A throwaway cache folder: the check must not leave natives in the user's cache.
    const cache = mkdtempSync(join(tmpdir(), "calyx-package-check-"));
    try {
      version = execFileSync(config.output, ["--version"], { env: { ...process.env, CALYX_CACHE_DIR: cache }, encoding: "utf8", timeout: 30_000 }).trim();
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
    if (!/^calyx /.test(version) || /not loadable/.test(version)) throw new Error(`the new executable does not work:\n${version}`);
  }
  // What the target machine needs: the newest glibc any part asks for.
  const needs = [["node", glibcNeeded(readFileSync(process.execPath))], ...Object.entries(natives).map(([n, x]) => [n, x.glibc])].filter(([, v]) => v !== undefined);
  const newest = needs.reduce((a, b) => (Number(b[1].split(".")[1]) > Number(a[1].split(".")[1]) ? b : a), ["none", "2.0"]);
  const result = {
    output: config.output,
    glibc: newest[1],
    bytes: statSync(config.output).size,
    seconds: (performance.now() - started) / 1000,
    stripped,
    natives,
    version,
  };
  log(`calyx: built ${relative(process.cwd(), result.output) || result.output} (${(result.bytes / 1e6).toFixed(1)} MB${stripped ? "" : ", not stripped: no `strip` on PATH"}) in ${result.seconds.toFixed(1)} s`);
  for (const [name, n] of Object.entries(natives)) log(`  native ${name}: ${n.source} (${(n.bytes / 1e6).toFixed(1)} MB, sha256 ${n.sha256.slice(0, 16)}…, glibc ≥ ${n.glibc ?? "?"})`);
  log(`  runs on ${config.target.platform}-${config.target.arch} with glibc ≥ ${newest[1]} (needed by ${newest[0]})`);
  if (version) log(version.split("\n").map((l) => `  ${l}`).join("\n"));
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `node scripts/package.mjs | head -1` should not end in an EPIPE stack trace.
  process.stdout.on("error", (error) => { if (error.code === "EPIPE") process.exitCode ??= 0; else throw error; });
  const { values } = parseArgs({ options: { config: { type: "string", default: "pkg.config.json" }, "no-check": { type: "boolean", default: false } } });
  try {
    await packageExecutable({ configFile: values.config, check: !values["no-check"] });
  } catch (error) {
    process.stderr.write(`calyx package: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
