// The transpile cache: unchanged files come from the data folder's cache (the
// runtime really uses what is there), a changed file is transpiled again (a
// syntax error is never masked), and a damaged, disabled or unwritable cache
// only costs a transpile.
import t, { type Test } from "tap";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";
import { TranspileCache, TRANSPILE_CACHE_FILE } from "../../src/host/transpile-cache.js";
import { ProjectError } from "../../src/host/errors.js";

const entity = (reply: string): string => `import { keyValueEntity } from "calyx";
export const acct = keyValueEntity({
  name: "acct",
  initialState: () => ({ n: 0 }),
  commands: { hello: { handler: (_s: { n: number }, _c: unknown, ctx) => ctx.reply(${JSON.stringify(reply)}) } },
});
`;

async function run(t: Test, projectDir: string, dataDir: string): Promise<Runtime> {
  const rt = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir, dataDir, workers: 1, durability: "none", log: () => undefined });
  t.teardown(() => rt.stop());
  return rt;
}

t.test("a restart reuses the cached JavaScript; the runtime runs what the cache holds", async (t) => {
  const dir = t.testdir({ project: { src: { "acct.ts": entity("from source") } }, data: {} });
  const projectDir = join(dir, "project");
  const dataDir = join(dir, "data");
  const first = await run(t, projectDir, dataDir);
  t.equal(await first.command("acct", "hello", "a", undefined, undefined), "from source");
  await first.stop();
  const file = join(dataDir, TRANSPILE_CACHE_FILE);
  t.ok(existsSync(file), "the first start wrote the cache");

  // Swap the cached output for other code: if the second start uses it, the
  // reply changes although the source did not.
  const cached = JSON.parse(readFileSync(file, "utf8")) as { format: string; entries: Record<string, string> };
  const keys = Object.keys(cached.entries);
  t.equal(keys.length, 1, "one entry per module");
  const key = keys[0] as string;
  cached.entries[key] = (cached.entries[key] as string).replace("from source", "from the cache");
  writeFileSync(file, JSON.stringify(cached));
  const second = await run(t, projectDir, dataDir);
  t.equal(await second.command("acct", "hello", "a", undefined, undefined), "from the cache");
  await second.stop();

  // An edited file misses and is transpiled again.
  writeFileSync(join(projectDir, "src", "acct.ts"), entity("edited"));
  const third = await run(t, projectDir, dataDir);
  t.equal(await third.command("acct", "hello", "a", undefined, undefined), "edited");
  await third.stop();
  const after = JSON.parse(readFileSync(file, "utf8")) as { entries: Record<string, string> };
  t.equal(Object.keys(after.entries).length, 1, "the stale entry was dropped, not kept beside the new one");
});

t.test("a syntax error in a changed file is reported, whatever the cache holds", async (t) => {
  const dir = t.testdir({ project: { src: { "acct.ts": entity("ok") } }, data: {} });
  const projectDir = join(dir, "project");
  const dataDir = join(dir, "data");
  await (await run(t, projectDir, dataDir)).stop();
  writeFileSync(join(projectDir, "src", "acct.ts"), entity("ok").replace("commands:", "commands: {{"));
  const error = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir, dataDir, workers: 1, durability: "none", log: () => undefined }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, ProjectError);
  t.match((error as ProjectError).problems[0], { code: "ERR_MODULE_SYNTAX", file: /acct\.ts$/ });
});

t.test("a damaged cache file is ignored and rewritten", async (t) => {
  const dir = t.testdir({ project: { src: { "acct.ts": entity("ok") } }, data: { [TRANSPILE_CACHE_FILE]: "{not json" } });
  const rt = await run(t, join(dir, "project"), join(dir, "data"));
  t.equal(await rt.command("acct", "hello", "a", undefined, undefined), "ok");
  t.doesNotThrow(() => JSON.parse(readFileSync(join(dir, "data", TRANSPILE_CACHE_FILE), "utf8")), "rewritten as valid JSON");
});

t.test("lookup and store: hits by path and source; entries of another format are ignored", async (t) => {
  const dir = t.testdir({});
  const sources = { "/p/src/a.ts": "export const a = 1;", "/p/src/b.ts": "export const b = 2;" };
  const cache = TranspileCache.open(dir);
  t.same(cache.lookup(sources), {}, "empty at first");
  cache.store(sources, { "/p/src/a.ts": "A", "/p/src/b.ts": "B" });
  const again = TranspileCache.open(dir);
  t.same(again.lookup(sources), { "/p/src/a.ts": "A", "/p/src/b.ts": "B" });
  t.same(again.lookup({ ...sources, "/p/src/b.ts": "export const b = 3;" }), { "/p/src/a.ts": "A" }, "a changed source misses");
  t.same(again.lookup({ "/p/src/c.ts": "export const a = 1;" }), {}, "the same source under another path misses");
  const file = join(dir, TRANSPILE_CACHE_FILE);
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { format: string };
  writeFileSync(file, JSON.stringify({ ...parsed, format: "0/old" }));
  t.same(TranspileCache.open(dir).lookup(sources), {}, "another format is a miss");
  t.same(TranspileCache.open(dir, { CALYX_TRANSPILE_CACHE: "0" }).lookup(sources), {}, "CALYX_TRANSPILE_CACHE=0 disables it");
});

t.test("a cache path that cannot be written (a folder in its place) costs a transpile, not an error", async (t) => {
  const dir = t.testdir({ [TRANSPILE_CACHE_FILE]: { "occupied.txt": "" } });
  t.doesNotThrow(() => TranspileCache.open(dir).store({ "/a.ts": "x" }, { "/a.ts": "y" }));
  t.same(TranspileCache.open(dir).lookup({ "/a.ts": "x" }), {});
});
