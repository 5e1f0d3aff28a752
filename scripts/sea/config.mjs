// pkg.config.json: pkg's own keys (pkg.targets, pkg.assets, pkg.outputPath —
// what `pkg --sea` reads) plus a "calyx" section for what pkg has no word for.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const PLATFORMS = { linux: "linux", macos: "darwin", darwin: "darwin", win: "win32", win32: "win32" };

export function loadConfig(root, file = "pkg.config.json") {
  const path = resolve(root, file);
  const json = JSON.parse(readFileSync(path, "utf8"));
  const pkg = json.pkg ?? {};
  const calyx = json.calyx ?? {};
  const need = (cond, what) => { if (!cond) throw new Error(`${path}: ${what}`); };
  need(Array.isArray(pkg.targets) && pkg.targets.length === 1, `pkg.targets must list exactly one target (a SEA build copies the running node), got ${JSON.stringify(pkg.targets)}`);
  need(Array.isArray(pkg.assets) && pkg.assets.every((a) => typeof a === "string"), "pkg.assets must be a list of paths or globs");
  need(typeof pkg.outputPath === "string", "pkg.outputPath must be a folder");
  for (const key of ["workDir", "output", "main"]) need(typeof calyx[key] === "string", `calyx.${key} must be a string`);
  for (const key of ["bundles", "loaders"]) need(calyx[key] && typeof calyx[key] === "object", `calyx.${key} must map asset names to entry points`);
  need(calyx.natives && typeof calyx.natives === "object", "calyx.natives must map names to natives");
  return {
    path,
    target: parseTarget(pkg.targets[0]),
    assets: pkg.assets,
    outputPath: resolve(root, pkg.outputPath),
    output: resolve(root, pkg.outputPath, calyx.output),
    workDir: resolve(root, calyx.workDir),
    main: resolve(root, calyx.main),
    bundles: Object.fromEntries(Object.entries(calyx.bundles).map(([k, v]) => [k, resolve(root, v)])),
    loaders: Object.fromEntries(Object.entries(calyx.loaders).map(([k, v]) => [k, resolve(root, v)])),
    mainOut: resolve(root, json.bin ?? join(calyx.workDir, "calyx.cjs")),
    useCodeCache: calyx.useCodeCache !== false,
    natives: calyx.natives,
    stubs: calyx.stubs ?? [],
    asciiWidth: calyx.asciiWidth ?? [],
    external: calyx.external ?? [],
    versionsOf: calyx.versionsOf ?? [],
  };
}

/** "node20-linux-x64" → { node: 20, platform: "linux", arch: "x64" } (Node's names). */
export function parseTarget(target) {
  const m = /^node(\d+)-([a-z0-9]+)-([a-z0-9]+)$/.exec(String(target));
  if (!m || !PLATFORMS[m[2]]) throw new Error(`unknown target ${JSON.stringify(target)} (expected e.g. node20-linux-x64)`);
  return { name: target, node: Number(m[1]), platform: PLATFORMS[m[2]], arch: m[3] };
}

/** A SEA build injects into a copy of the running node, so the host must be the target. */
export function checkHostMatches(target) {
  const node = Number(process.versions.node.split(".")[0]);
  if (node !== target.node || process.platform !== target.platform || process.arch !== target.arch) {
    throw new Error(`target ${target.name} needs this script to run on ${target.platform}-${target.arch} with Node ${target.node}; ` +
      `this is ${process.platform}-${process.arch} with Node ${process.versions.node}. (Cross builds need pkg's downloaded base binaries, which this setup avoids.)`);
  }
}

/** Expands pkg.assets (paths, `*` and `**` globs) to files, relative to root. */
export function expandAssets(root, patterns) {
  const out = new Set();
  for (const pattern of patterns) {
    const re = globToRegExp(pattern);
    const base = resolve(root, pattern.slice(0, pattern.search(/[*?[]|$/)).replace(/[^/]*$/, ""));
    if (!/[*?[]/.test(pattern)) {
      if (!existsSync(resolve(root, pattern))) throw new Error(`asset ${pattern} does not exist`);
      out.add(resolve(root, pattern));
      continue;
    }
    for (const file of walk(base)) if (re.test(relative(root, file).split(sep).join("/"))) out.add(file);
  }
  return [...out].sort();
}

function globToRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") { re += ".*"; i++; if (glob[i + 1] === "/") i++; }
    else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function* walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}
