// `node build/calyx.cjs` start-up (docs/host.md "Start-up"): the entry point
// starts the worker threads before the CLI loads and compiles Calyx's code
// through a V8 code cache kept in the cache folder; CALYX_TRACE_STARTUP=1
// shows both. The single executable has its own cache (executable.test.ts).
import t from "tap";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { copyProject, filesUnder, json, outputLines, runCalyx, startCalyx } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");

if (process.env["CALYX_BIN"]) {
  t.pass("the executable's code cache is tested in executable.test.ts");
} else {
  /** Cache files under `dir`, by name. */
  const cacheFiles = (dir: string): string[] => filesUnder(dir).map((f) => basename(f));

  t.test("workers start first; a server writes the code cache and the next start uses it in every thread", async (t) => {
    const dir = t.testdir();
    const project = copyProject("customer-registry", dir);
    const cache = join(dir, "cache");
    const env = { ...process.env, CALYX_CACHE_DIR: cache, CALYX_TRACE_STARTUP: "1" };
    const args = ["run", project, "--port", "0", "--data", join(dir, "data"), "--workers", "2"];

    const first = await startCalyx(args, 20_000, env);
    t.match(first.output(), /^calyx: startup workers started at [\d.]+ ms$/m, "the entry point started the threads");
    t.equal((await outputLines(first, /^calyx: startup worker \d+ project loaded.*$/, 2)).length, 2, "two threads, as --workers says");
    // Whether the second loaded before the server listened or joined after (few cores), the trace says when both serve.
    await outputLines(first, /^calyx: startup all 2 workers serving at [\d.]+ ms$/);
    const [misses] = await outputLines(first, /^calyx: startup listening \(code cache: 0 hits, \d+ misses, 0 refused\)/);
    t.ok(misses && Number(/(\d+) misses/.exec(misses)?.[1]) >= 3, `the first start compiles without a cache: ${misses}`);
    t.match(first.output(), /^calyx: startup views compiled \(3 queries, 0 already parsed\)/m, "the views' SQL is parsed");
    const created = await fetch(`${first.url}/customers/c1`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Ann", email: "a@x.io" }) });
    t.equal(created.status, 200);
    // A few seconds after start every thread writes the caches of what it compiled.
    const written = await outputLines(first, /^calyx: startup (main thread|worker \d+): [1-9]\d* code caches in place/, 3);
    t.equal(written.length, 3, written.join("\n"));
    t.ok(cacheFiles(cache).length >= 3 && cacheFiles(cache).every((f) => f.endsWith(".full.v8cache")), cacheFiles(cache).join(", "));
    for (const bundle of ["cli.cjs", "worker-main.cjs"]) {
      const name = `${createHash("sha256").update(join(ROOT, "build", bundle)).digest("hex").slice(0, 12)}-`;
      t.ok(cacheFiles(cache).some((f) => f.startsWith(name)), `build/${bundle} itself is cached (${name}…)`);
    }
    first.proc.kill("SIGTERM");
    t.equal(await first.exited, 0);

    const second = await startCalyx(args, 20_000, env);
    const [hits] = await outputLines(second, /^calyx: startup listening \(code cache: \d+ hits, 0 misses, 0 refused\)/);
    t.ok(hits && Number(/(\d+) hits/.exec(hits)?.[1]) >= 3, `the second start compiles from the cache: ${hits}`);
    t.equal((await outputLines(second, /^calyx: startup worker \d+ project loaded \(code cache: [1-9]\d* hits, 0 misses, 0 refused\)/, 2)).length, 2, "both threads use it too");
    t.match(second.output(), /^calyx: startup views compiled \(3 queries, 3 already parsed\)/m, "the parses come from the view SQL cache");
    t.same(await json(await fetch(`${second.url}/customers/c1`)), { name: "Ann", email: "a@x.io" });
    t.same(await json(await fetch(`${second.url}/customers/by-name/Ann`)), [{ name: "Ann", email: "a@x.io" }]);

    // The CLI bundle, compiled from its cache, still loads the natives for --version.
    const v = await runCalyx(["--version"], 30_000, env);
    t.equal(v.code, 0, v.stderr);
    t.match(v.stdout, /^lmdb-js \S+ \(LMDB [^)]+\)$/m);
    t.match(v.stdout, /^uWebSockets\.js \S+ \(native\)$/m);
    t.notMatch(v.stdout, /not loadable/);
    second.proc.kill("SIGTERM");
    t.equal(await second.exited, 0);

    // A new query is parsed; the unchanged ones still come from the cache.
    const viewFile = join(project, "src/customers-by-name.ts");
    const source = readFileSync(viewFile, "utf8");
    const edited = source.replace(/(\n\s*)byName: \{/, '$1byEmail: { http: "GET /customers/by-email/:email", sql: "SELECT * FROM customers WHERE email = :email" },$1byName: {');
    t.not(edited, source);
    writeFileSync(viewFile, edited);
    const third = await startCalyx(args, 20_000, env);
    await outputLines(third, /^calyx: startup views compiled \(4 queries, 3 already parsed\)/);
    await outputLines(third, /view 'customers' is ready/); // the new query's index is built from the stored rows
    t.same(await json(await fetch(`${third.url}/customers/by-email/a@x.io`)), [{ name: "Ann", email: "a@x.io" }]);
    third.proc.kill("SIGTERM");
    t.equal(await third.exited, 0);
  });

  t.test("the bundles hold no import( (a file that does is compiled without the cache)", async (t) => {
    for (const bundle of ["cli.cjs", "worker-main.cjs"]) {
      const text = readFileSync(join(ROOT, "build", bundle), "utf8");
      t.notMatch(text, /\bimport\s*\(/, bundle);
    }
  });

  t.test("the project's code does not see the C library hint given to the workers' lmdb-js", async (t) => {
    const dir = t.testdir({
      project: {
        src: {
          "env-api.ts": `import { endpoint } from "calyx";
export const envApi = endpoint({
  name: "env-api",
  routes: { "GET /env": async () => ({ libc: process.env["LIBC"] ?? null, hint: process.env["CALYX_LIBC_HINT"] ?? null, home: typeof process.env["HOME"] }) },
});
`,
        },
      },
    });
    const env: NodeJS.ProcessEnv = { ...process.env, CALYX_CACHE_DIR: join(dir, "cache") };
    delete env["LIBC"];
    const server = await startCalyx(["run", join(dir, "project"), "--port", "0", "--data", join(dir, "data")], 20_000, env);
    t.same(await json(await fetch(`${server.url}/env`)), { libc: null, hint: null, home: "string" }, "the rest of the environment is there");
    server.proc.kill("SIGTERM");
    t.equal(await server.exited, 0);
  });

  t.test("a short command with no cache yet leaves one at exit", async (t) => {
    const cache = join(t.testdir(), "cache");
    const v = await runCalyx(["--version"], 30_000, { ...process.env, CALYX_CACHE_DIR: cache });
    t.equal(v.code, 0, v.stderr);
    const files = cacheFiles(cache);
    t.ok(files.length >= 1 && files.every((f) => f.endsWith(".exit.v8cache")), files.join(", "));
  });

  t.test("CALYX_CODE_CACHE=0: no cache is read or written", async (t) => {
    const dir = t.testdir();
    const project = copyProject("customer-registry", dir);
    const cache = join(dir, "cache");
    const env = { ...process.env, CALYX_CACHE_DIR: cache, CALYX_TRACE_STARTUP: "1", CALYX_CODE_CACHE: "0" };
    const server = await startCalyx(["run", project, "--port", "0", "--data", join(dir, "data")], 20_000, env);
    await outputLines(server, /^calyx: startup listening \(code cache: 0 hits, 0 misses, 0 refused\)/);
    t.equal((await fetch(`${server.url}/customers/c1`)).status, 404);
    server.proc.kill("SIGTERM");
    t.equal(await server.exited, 0);
    t.same(cacheFiles(cache), []);
  });
}
