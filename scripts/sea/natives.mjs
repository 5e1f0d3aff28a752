// Finds the native addons the bundle needs (pkg.config.json → calyx.natives),
// copies them into the work folder and describes each for the bundle: asset
// key, size, SHA-256 (src/sea/build-info.ts reads that as __CALYX_NATIVES__).
// Stored gzipped (11 MB → 4 MB of the executable); unpacked once, at first start.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";

export function collectNatives(root, workDir, natives) {
  const require = createRequire(join(root, "package.json"));
  mkdirSync(join(workDir, "natives"), { recursive: true });
  const out = {};
  for (const [name, spec] of Object.entries(natives)) {
    const dir = packageDir(root, spec.package);
    let source;
    if (spec.locate === "node-gyp-build") {
      // The same resolver the package uses at run time, so we embed the file it would load.
      source = require("node-gyp-build-optional-packages").path(dir);
    } else if (typeof spec.file === "string") {
      source = join(dir, spec.file.replace("{platform}", process.platform).replace("{arch}", process.arch).replace("{abi}", process.versions.modules));
    } else {
      throw new Error(`calyx.natives.${name}: give "locate": "node-gyp-build" or a "file" pattern`);
    }
    if (!existsSync(source)) throw new Error(`native ${name}: ${source} does not exist (is ${spec.package} installed for ${process.platform}-${process.arch}, Node ABI ${process.versions.modules}?)`);
    const data = readFileSync(source);
    const target = join(workDir, "natives", `${name}.node.gz`);
    writeFileSync(target, gzipSync(data, { level: 9 }));
    out[name] = {
      asset: relative(workDir, target).split(sep).join("/"),
      compression: "gzip",
      sha256: createHash("sha256").update(data).digest("hex"),
      bytes: data.length,
      source: relative(root, source),
      glibc: glibcNeeded(data),
    };
  }
  return out;
}

/** node_modules/<name> (read directly: some packages' "exports" hide package.json). */
export function packageDir(root, name) {
  const dir = join(root, "node_modules", name);
  if (!existsSync(join(dir, "package.json"))) throw new Error(`package ${name} is not installed (run npm ci)`);
  return dir;
}

export function packageVersions(root, names) {
  return Object.fromEntries(names.map((n) => [n, JSON.parse(readFileSync(join(packageDir(root, n), "package.json"), "utf8")).version]));
}


/** The newest GLIBC_2.x symbol version an ELF file asks for ("2.34"), or undefined (musl, not ELF). */
export function glibcNeeded(data) {
  let best;
  for (const m of data.toString("latin1").matchAll(/GLIBC_2\.(\d+)/g)) {
    const minor = Number(m[1]);
    if (best === undefined || minor > best) best = minor;
  }
  return best === undefined ? undefined : `2.${best}`;
}
