// The compile cache of `node build/calyx.cjs` (src/cli/compile-cache.ts), in
// child processes: a module compiled through it behaves as Node's loader would
// make it (require, resolve, __filename, this, import()), its cache is written
// at exit and used by the next process, a changed file gets a new cache and
// the old one is deleted, and files outside Calyx's folder are left alone.
import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { filesUnder } from "../e2e/helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");

const CHILD = `
import { createRequire } from "node:module";
import { join } from "node:path";
import { installCompileCache } from ${JSON.stringify(join(ROOT, "src/cli/compile-cache.ts"))};
import { codeCacheStats } from ${JSON.stringify(join(ROOT, "src/cli/code-cache.ts"))};
const [root, outside] = process.argv.slice(2);
const installed = installCompileCache(join(root, "build"));
const require = createRequire(import.meta.url);
const m = require(join(root, "mod.cjs"));
const o = require(outside);
const dynamic = await m.dynamic();
console.log(JSON.stringify({ installed, stats: codeCacheStats(), value: m.value, pkg: m.pkg, filename: m.filename, dirname: m.dirname,
  thisIsExports: m.thisIsExports, resolved: m.resolved, paths: m.paths, dynamic, outside: o.value }));
`;

const MOD = (n: number): string => `#!/usr/bin/env node
const helper = require("./helper.cjs");
exports.value = helper.twice(${n});
exports.filename = __filename;
exports.dirname = __dirname;
exports.thisIsExports = this === module.exports;
exports.resolved = require.resolve("./helper.cjs");
exports.paths = Array.isArray(require.resolve.paths("x"));
exports.dynamic = require("./dynamic.cjs");
exports.pkg = require("pkg").name + "+" + require("linked").name;
`;

interface ChildOut {
  installed: boolean;
  pkg: string;
  stats: { hits: number; misses: number; rejected: number };
  value: number;
  filename: string;
  dirname: string;
  thisIsExports: boolean;
  resolved: string;
  paths: boolean;
  dynamic: string;
  outside: string;
}

type TestDir = (typeof t)["testdir"];

function setup(t: { testdir: TestDir }): { dir: string; root: string; cache: string; run: (env?: Record<string, string>) => ChildOut } {
  const dir = t.testdir({ "child.mts": CHILD, "outside.cjs": "exports.value = 'outside';\n" });
  // Calyx's folder (its entry points in build/) inside a project whose node_modules holds a package it uses.
  const root = join(dir, "calyx");
  mkdirSync(join(root, "build"), { recursive: true });
  mkdirSync(join(dir, "node_modules", "pkg"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "pkg", "index.js"), "exports.name = 'pkg';\n");
  // and whose own node_modules is a symlink (a worktree's, a linked install): Node names its files by their real path.
  mkdirSync(join(dir, "linked-modules", "linked"), { recursive: true });
  writeFileSync(join(dir, "linked-modules", "linked", "index.js"), "exports.name = 'linked';\n");
  symlinkSync(join(dir, "linked-modules"), join(root, "node_modules"));
  writeFileSync(join(root, "mod.cjs"), MOD(21));
  writeFileSync(join(root, "helper.cjs"), "exports.twice = (x) => x * 2;\n");
  writeFileSync(join(root, "esm.mjs"), "export default 'from esm';\n");
  // Holds import(): compiled as Node compiles it (a script from a code cache loses its import() callback on Node 20).
  writeFileSync(join(root, "dynamic.cjs"), "module.exports = () => import('./esm.mjs').then((m) => m.default);\n");
  const cache = join(dir, "cache");
  const run = (env: Record<string, string> = {}): ChildOut => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(dir, "child.mts"), root, join(dir, "outside.cjs")], {
      cwd: ROOT, encoding: "utf8", env: { ...process.env, CALYX_CACHE_DIR: cache, ...env },
    });
    if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as ChildOut;
  };
  return { dir, root, cache, run };
}

/** Their names. */
function cacheFiles(cache: string): string[] {
  return filesUnder(cache).map((f) => basename(f));
}

t.test("a cached module behaves as Node loads it; the cache is written at exit and used next time", async (t) => {
  const { root, cache, run } = setup(t);
  const first = run();
  t.equal(first.installed, true);
  t.same(first.stats, { hits: 0, misses: 4, rejected: 0 }, "mod.cjs, helper.cjs and the two packages compiled without a cache; dynamic.cjs (import()) and outside.cjs not through the cache");
  t.equal(first.pkg, "pkg+linked", "packages from the node_modules folders Calyx resolves from, a symlinked one included");
  t.equal(first.value, 42);
  t.equal(first.filename, join(root, "mod.cjs"));
  t.equal(first.dirname, root);
  t.equal(first.thisIsExports, true);
  t.equal(first.resolved, join(root, "helper.cjs"));
  t.equal(first.paths, true);
  t.equal(first.dynamic, "from esm", "import() in a module the cached one requires");
  t.equal(first.outside, "outside");
  const files = cacheFiles(cache);
  t.equal(files.length, 4, files.join(", "));
  t.ok(files.every((f) => /^[0-9a-f]{12}-[0-9a-f]{24}\.exit\.v8cache$/.test(f)), files.join(", "));

  const second = run();
  t.same(second.stats, { hits: 4, misses: 0, rejected: 0 }, "all four from the cache");
  t.equal(second.value, 42);
  t.equal(second.dynamic, "from esm", "import() still works once the cache is used");
  t.same(cacheFiles(cache), files, "a hit writes no exit cache");
});

t.test("a changed file gets a new cache and its old one is deleted", async (t) => {
  const { root, cache, run } = setup(t);
  run();
  const before = cacheFiles(cache);
  writeFileSync(join(root, "mod.cjs"), MOD(50));
  const changed = run();
  t.equal(changed.value, 100, "the new code runs, not the cached old one");
  t.same(changed.stats, { hits: 3, misses: 1, rejected: 0 });
  const after = cacheFiles(cache);
  t.equal(after.length, 4, after.join(", "));
  t.equal(after.filter((f) => before.includes(f)).length, 3, "the others kept their caches; mod.cjs's old one is gone");
  t.same(run().stats, { hits: 4, misses: 0, rejected: 0 });
});

t.test("a damaged cache is refused, costs a compile and changes nothing else", async (t) => {
  const { cache, run } = setup(t);
  run();
  for (const f of filesUnder(cache)) writeFileSync(f, Buffer.alloc(4096, 7));
  const damaged = run();
  t.equal(damaged.value, 42);
  t.equal(damaged.stats.hits, 0);
  t.equal(damaged.stats.rejected + damaged.stats.misses, 4);
  t.ok(damaged.stats.rejected >= 1, "V8 refused the damaged data");
});

t.test("CALYX_CODE_CACHE=0: nothing is installed or written", async (t) => {
  const { cache, run } = setup(t);
  const off = run({ CALYX_CODE_CACHE: "0" });
  t.equal(off.installed, false);
  t.same(off.stats, { hits: 0, misses: 0, rejected: 0 });
  t.equal(off.value, 42);
  t.same(cacheFiles(cache), []);
});

t.test("an unwritable cache folder costs speed only", async (t) => {
  const { dir, run } = setup(t);
  const blocker = join(dir, "blocker");
  writeFileSync(blocker, "");
  const r = run({ CALYX_CACHE_DIR: join(blocker, "cache") });
  t.equal(r.value, 42);
  t.same(r.stats, { hits: 0, misses: 4, rejected: 0 });
});

t.test("a file loaded after the first caches were written gets a full cache of its own a few seconds later", async (t) => {
  const dir = t.testdir({
    "late.mts": `
import { createRequire } from "node:module";
import { join } from "node:path";
import { installCompileCache } from ${JSON.stringify(join(ROOT, "src/cli/compile-cache.ts"))};
const root = process.argv[2];
installCompileCache(join(root, "build"));
const require = createRequire(import.meta.url);
// Each turn of full caches prints a trace line (CALYX_TRACE_STARTUP=1): wait for it, not for a time.
let turns = 0;
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  if (String(chunk).includes("code caches in place")) {
    turns++;
    // The scenario: a module first needed after the first caches were written (the workers' query compiler, say).
    if (turns === 1) require(join(root, "late.cjs"));
    else setImmediate(() => process.exit(0));
  }
  return write(chunk, ...rest);
}) as typeof process.stderr.write;
const deadline = setTimeout(() => { write("no second turn of full caches within 30 s\\n"); process.exit(1); }, 30_000);
// (The deadline also keeps the process alive meanwhile: the cache timers are unref'd.)
void deadline;
require(join(root, "early.cjs"));
`,
    calyx: { build: {}, "early.cjs": "exports.x = 1;\n", "late.cjs": "exports.y = 2;\n" },
  });
  const cache = join(dir, "cache");
  const r = spawnSync(process.execPath, ["--import", "tsx", join(dir, "late.mts"), join(dir, "calyx")], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CALYX_CACHE_DIR: cache, CALYX_TRACE_STARTUP: "1" } });
  t.equal(r.status, 0, r.stderr);
  const files = cacheFiles(cache);
  t.equal(files.length, 2, files.join(", "));
  t.ok(files.every((f) => f.endsWith(".full.v8cache")), `both written as full caches: ${files.join(", ")}`);
});
