// The CLI's one-line errors: each names the problem and how to fix it, exit code ≠ 0.
import t from "tap";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { copyProject, runCalyx, startCalyx } from "./helpers.js";

t.test("a missing project folder", async (t) => {
  const r = await runCalyx(["run", "/nonexistent/project", "--port", "0"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /calyx: error: project folder not found: \/nonexistent\/project/);
});

t.test("a project with no components", async (t) => {
  const dir = t.testdir({ src: { "util.ts": "export const x = 1;\n" } });
  const r = await runCalyx(["run", dir, "--port", "0", "--data", `${dir}/.data`]);
  t.equal(r.code, 1);
  t.match(r.stderr, /no components found/);
});

t.test("a module that does not compile: file:line:col and a code frame", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  writeFileSync(`${project}/src/broken.ts`, "export const a = 1;\nexport const b = (;\n");
  const r = await runCalyx(["run", project, "--port", "0"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /src\/broken\.ts:2:\d+: does not compile/);
  t.match(r.stderr, /> 2 \| export const b = \(;/);
});

t.test("a module that throws at import", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  writeFileSync(`${project}/src/throws.ts`, "\nthrow new Error('boom at load');\n");
  const r = await runCalyx(["run", project, "--port", "0"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /src\/throws\.ts:2:\d+: threw while loading: boom at load/);
});

t.test("two components with one name, two routes on one path", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  writeFileSync(`${project}/src/dup.ts`, `import { keyValueEntity } from "calyx";
export const again = keyValueEntity({ name: "customer", initialState: () => null, commands: {} });
export const other = keyValueEntity({ name: "other", initialState: () => null,
  commands: { c: { http: "POST /customers/:key", handler: (_s, _c, ctx) => ctx.reply(1) } } });
`);
  const r = await runCalyx(["run", project, "--port", "0"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /two components are named 'customer'/);
  t.match(r.stderr, /route 'POST \/customers\/:key' is already taken by customer\.create/);
});

t.test("invalid SQL in a view names the view and the query", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  writeFileSync(`${project}/src/bad-view.ts`, `import { view } from "calyx";
import { customer } from "./customer.js";
export const bad = view({ name: "bad", from: customer, queries: { q: { sql: "SELECT * FROM bad WHERE" } } });
`);
  const r = await runCalyx(["run", project, "--port", "0"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /src\/bad-view\.ts/);
  t.match(r.stderr, /bad/);
});

t.test("a port already in use", async (t) => {
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, "127.0.0.1", res));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const r = await runCalyx(["run", project, "--port", String(port), "--data", `${dir}/data`]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
});

t.test("a data folder that cannot be written", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  writeFileSync(`${dir}/a-file`, "");
  const r = await runCalyx(["run", project, "--port", "0", "--data", `${dir}/a-file/data`]);
  t.equal(r.code, 1);
  t.match(r.stderr, /data folder not writable: .*a-file\/data/);
});

t.test("unknown options and commands are usage errors", async (t) => {
  const r = await runCalyx(["run", "--no-such-option"]);
  t.equal(r.code, 2);
  t.match(r.stderr, /Unknown argument/);
  const v = await runCalyx(["--version"]);
  t.equal(v.code, 0);
  t.match(v.stdout, /\d+\.\d+\.\d+/);
});

t.test("calyx new scaffolds a project that serves and whose tests pass", async (t) => {
  const dir = t.testdir();
  const made = await runCalyx(["new", `${dir}/shop`]);
  t.equal(made.code, 0, made.stderr);
  const tests = await runCalyx(["test", `${dir}/shop`], 60_000);
  t.equal(tests.code, 0, tests.stdout + tests.stderr);
  t.match(tests.stdout, /# pass 3/);
  mkdirSync(`${dir}/data`);
  const server = await startCalyx(["run", `${dir}/shop`, "--port", "0", "--data", `${dir}/data`]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const res = await fetch(`${server.url}/customers/c9`, { method: "POST", body: JSON.stringify({ name: "Cy", email: "c@y.io" }) });
  t.equal(res.status, 200);
  // What an editor sees: the project type-checks against the types calyx new wrote.
  const root = resolve(import.meta.dirname, "../..");
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", `${dir}/shop`, "--typeRoots", join(root, "node_modules/@types")], { encoding: "utf8" });
  t.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  const again = await runCalyx(["new", `${dir}/shop`]);
  t.equal(again.code, 1);
  t.match(again.stderr, /exists and is not empty/);
});
