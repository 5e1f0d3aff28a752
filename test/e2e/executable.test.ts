// The single executable (dist/calyx) as a user gets it: copied with a project
// into an empty folder outside the repository (no node_modules above it), run
// with a PATH that has no node, a fresh cache folder. Builds the executable
// first when it is missing or older than the sources; CALYX_SKIP_EXE=1 skips.
import t, { type Test } from "tap";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import WebSocket from "ws";

const ROOT = resolve(import.meta.dirname, "../..");
const EXE = join(ROOT, "dist/calyx");
const START_DEADLINE_MS = 20_000;
const RUN_DEADLINE_MS = 60_000;

/** Why the executable must be (re)built, or undefined when it is current. */
function staleReason(): string | undefined {
  if (!existsSync(EXE)) return "dist/calyx is missing";
  const built = statSync(EXE).mtimeMs;
  const newer = (path: string): boolean => {
    const st = statSync(path);
    if (st.isDirectory()) return readdirSync(path).some((name) => newer(join(path, name)));
    return st.mtimeMs > built;
  };
  const inputs = ["src", "bin", "scripts", "pkg.config.json", "package-lock.json"].map((p) => join(ROOT, p));
  const changed = inputs.find((p) => existsSync(p) && newer(p));
  return changed ? `${changed} is newer than dist/calyx` : undefined;
}

if (process.env["CALYX_SKIP_EXE"] === "1") {
  t.plan(0, "CALYX_SKIP_EXE=1: the single-executable tests are skipped");
} else {
  const reason = staleReason();
  if (reason !== undefined) {
    t.comment(`building the executable (${reason}): node scripts/package.mjs`);
    const r = spawnSync(process.execPath, [join(ROOT, "scripts/package.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`node scripts/package.mjs failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
  tests();
}

interface Place {
  readonly dir: string;
  readonly exe: string;
  readonly project: string;
  readonly env: NodeJS.ProcessEnv;
}

/** An empty folder outside the repository holding a copy of the executable and the example. */
function place(t: Test): Place {
  const dir = mkdtempSync(join(tmpdir(), "calyx-exe-test-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (let up = dir; up !== dirname(up); up = dirname(up)) {
    if (existsSync(join(up, "node_modules"))) throw new Error(`${up}/node_modules exists: the test folder must have none above it`);
  }
  const exe = join(dir, "calyx");
  copyFileSync(EXE, exe);
  chmodSync(exe, 0o755);
  const project = join(dir, "customer-registry");
  cpSync(join(ROOT, "examples/customer-registry"), project, { recursive: true, filter: (src) => !src.includes(".calyx") && !src.includes("node_modules") });
  // PATH is an empty folder: nothing, node included, can be found through it.
  const bin = join(dir, "empty-bin");
  mkdirSync(bin);
  const env: NodeJS.ProcessEnv = { PATH: bin, HOME: dir, CALYX_CACHE_DIR: join(dir, "cache"), LANG: "C" };
  return { dir, exe, project, env };
}

interface Running {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | string>;
}

function start(t: Test, p: Place, file: string, args: string[], env: NodeJS.ProcessEnv = p.env): Promise<Running> {
  const proc = spawn(file, args, { cwd: p.dir, env, stdio: ["ignore", "pipe", "pipe"] });
  t.teardown(() => { proc.kill("SIGKILL"); });
  let out = "";
  const exited = new Promise<number | string>((res) => proc.on("exit", (code, signal) => res(code ?? signal ?? -1)));
  const collect = (d: Buffer): void => { out += d.toString(); };
  proc.stdout.on("data", collect);
  proc.stderr.on("data", collect);
  const url = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no "listening on" line within ${START_DEADLINE_MS} ms:\n${out}`)), START_DEADLINE_MS);
    proc.stdout.on("data", () => {
      const m = /calyx: listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) { clearTimeout(timer); res(m[1]); }
    });
    void exited.then((code) => { clearTimeout(timer); rej(new Error(`exited (${code}) before listening:\n${out}`)); });
  });
  return url.then((u) => ({ url: u, proc, exited }));
}

function run(p: Place, file: string, args: string[], env: NodeJS.ProcessEnv = p.env): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const proc = spawn(file, args, { cwd: p.dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
  proc.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { proc.kill("SIGKILL"); rej(new Error(`${file} ${args.join(" ")}: no exit within ${RUN_DEADLINE_MS} ms:\n${stdout}${stderr}`)); }, RUN_DEADLINE_MS);
    proc.on("exit", (code, signal) => { clearTimeout(timer); res({ code: code ?? signal ?? -1, stdout, stderr }); });
  });
}

async function body(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`not JSON (status ${res.status}): ${text}`);
  }
}

function post(url: string, path: string, value: unknown): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(value) });
}

/** Files under the cache folder, relative to the test folder; `natives` keeps the .node files only. */
/** A live query over WebSocket (uWS in the executable): the snapshot, then a change pushed by a write. */
async function liveQuery(t: Test, url: string): Promise<void> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/_calyx/ws`);
  t.teardown(() => ws.close());
  const inbox: { type: string; [k: string]: unknown }[] = [];
  const arrived: (() => void)[] = [];
  ws.on("message", (d: Buffer) => { inbox.push(JSON.parse(String(d)) as { type: string }); for (const f of arrived.splice(0)) f(); });
  const next = async (type: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + START_DEADLINE_MS;
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0] as Record<string, unknown>;
      if (Date.now() > deadline) throw new Error(`no ${type} message; got ${JSON.stringify(inbox)}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.max(0, deadline - Date.now()));
        arrived.push(() => { clearTimeout(timer); r(); });
      });
    }
  };
  await new Promise((r, j) => { ws.once("open", r); ws.once("error", j); });
  ws.send(JSON.stringify({ type: "subscribe", sub: "ann", view: "customers", query: "byName", params: { name: "Ann" } }));
  t.match(await next("snapshot"), { sub: "ann", rows: [{ row: { name: "Ann", email: "a@x.io" } }] }, "the live query starts with the stored row");
  t.equal((await post(url, "/customers/c2", { name: "Ann", email: "ann2@x.io" })).status, 200);
  t.match(await next("change"), { sub: "ann", ops: [{ op: "add", key: "c2", row: { name: "Ann", email: "ann2@x.io" } }] }, "a write is pushed to the subscriber");
}

function cacheFiles(p: Place, natives = true): string[] {
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name).slice(p.dir.length + 1)]));
  const root = p.env["CALYX_CACHE_DIR"] ?? "";
  const all = existsSync(root) ? walk(root).sort() : [];
  return natives ? all.filter((f) => f.endsWith(".node")) : all;
}

function tests(): void {
  t.test("--version names calyx, its commit, node, LMDB and uWS; --help lists the commands", async (t) => {
    const p = place(t);
    const v = await run(p, p.exe, ["--version"]);
    t.equal(v.code, 0, v.stderr);
    t.match(v.stdout, /^calyx \d+\.\d+\.\d+\S* \(commit \w+\)$/m);
    t.match(v.stdout, new RegExp(`^node ${process.version.replace(/\./g, "\\.")} \\(ABI \\d+, linux-x64\\)$`, "m"));
    t.match(v.stdout, /^lmdb-js 3\.5\.6 \(LMDB \d+\.\d+\.\d+\)$/m);
    t.match(v.stdout, /^uWebSockets\.js \S+ \(native\)$/m);
    t.match(v.stdout, new RegExp(`^cache ${join(p.dir, "cache")}/`, "m"));
    const h = await run(p, p.exe, ["--help"]);
    t.equal(h.code, 0, h.stderr);
    t.match(h.stdout, /calyx run \[dir\]/);
  });

  t.test("serves the example from an empty folder with no node on PATH; data survives a kill and a restart", async (t) => {
    const p = place(t);
    t.equal(spawnSync("sh", ["-c", "command -v node"], { env: p.env }).status === 0, false, "node is not on the test PATH");
    const data = join(p.dir, "data");
    const first = await start(t, p, p.exe, ["run", p.project, "--port", "0", "--data", data]);
    // Natives were unpacked under content-hashed names, and nothing half-written is left.
    const unpacked = cacheFiles(p);
    t.match(unpacked, [/^cache\/[^/]+\/lmdb-[0-9a-f]{16}\.node$/, /^cache\/[^/]+\/uws-[0-9a-f]{16}\.node$/]);
    t.equal(unpacked.length, 2, unpacked.join("\n"));

    const created = await post(first.url, "/customers/c1", { name: "Ann", email: "a@x.io" });
    t.equal(created.status, 200);
    t.same(await body(created), "done");
    // Reads go through the worker threads, which load lmdb from the same cache file.
    t.same(await body(await fetch(`${first.url}/customers/c1`)), { name: "Ann", email: "a@x.io" });
    t.same(await body(await fetch(`${first.url}/customers/by-name/Ann`)), [{ name: "Ann", email: "a@x.io" }]);
    first.proc.kill("SIGKILL");
    t.equal(await first.exited, "SIGKILL");

    const inodes = unpacked.map((f) => statSync(join(p.dir, f)).ino);
    const second = await start(t, p, p.exe, ["run", p.project, "--port", "0", "--data", data]);
    t.same(await body(await fetch(`${second.url}/customers/c1`)), { name: "Ann", email: "a@x.io" });
    t.same(await body(await fetch(`${second.url}/customers/by-name/Ann`)), [{ name: "Ann", email: "a@x.io" }]);
    await liveQuery(t, second.url);
    t.same(cacheFiles(p), unpacked, "a later start adds nothing to the cache");
    t.same(unpacked.map((f) => statSync(join(p.dir, f)).ino), inodes, "a later start rewrites nothing");
    second.proc.kill("SIGTERM");
    t.equal(await second.exited, 0, "SIGTERM stops it cleanly");
    // No code cache yet (the first process was killed); a clean exit leaves one.
    t.match(cacheFiles(p, false).filter((f) => f.includes("/code/")), [/\/code\/cli\.cjs-[0-9a-f]{16}-x64\.exit\.v8cache$/]);
  });

  t.test("backup, restore and views list from the executable", async (t) => {
    const p = place(t);
    const data = join(p.dir, "data");
    const server = await start(t, p, p.exe, ["run", p.project, "--port", "0", "--data", data]);
    t.equal((await post(server.url, "/customers/c1", { name: "Ann", email: "a@x.io" })).status, 200);
    // A backup while the server runs, as documented.
    const backup = await run(p, p.exe, ["backup", join(p.dir, "b.calyx-backup"), "--data", data]);
    t.equal(backup.code, 0, backup.stderr);
    server.proc.kill("SIGTERM");
    t.equal(await server.exited, 0);
    const restored = join(p.dir, "restored");
    const restore = await run(p, p.exe, ["restore", join(p.dir, "b.calyx-backup"), "--data", restored]);
    t.equal(restore.code, 0, restore.stderr);
    const views = await run(p, p.exe, ["views", "list", p.project, "--data", restored]);
    t.equal(views.code, 0, views.stderr);
    t.match(views.stdout, /customers/);
    const again = await start(t, p, p.exe, ["run", p.project, "--port", "0", "--data", restored]);
    t.same(await body(await fetch(`${again.url}/customers/by-name/Ann`)), [{ name: "Ann", email: "a@x.io" }]);
  });

  t.test("concurrent first starts share one cache safely", async (t) => {
    const p = place(t);
    const runs = await Promise.all(Array.from({ length: 6 }, () => run(p, p.exe, ["--version"])));
    for (const r of runs) {
      t.equal(r.code, 0, r.stderr);
      t.notMatch(r.stdout, /not loadable/);
    }
    const files = cacheFiles(p, false);
    t.equal(files.filter((f) => f.endsWith(".node")).length, 2, `one file per native: ${files.join(", ")}`);
    t.same(files.filter((f) => f.endsWith(".tmp")), [], "no temp files left");
  });

  t.test("a damaged native in the cache is rewritten from the executable", async (t) => {
    const p = place(t);
    t.equal((await run(p, p.exe, ["--version"])).code, 0);
    const uws = cacheFiles(p).find((f) => f.includes("/uws-"));
    if (uws === undefined) throw new Error("no uws native in the cache");
    const good = readFileSync(join(p.dir, uws));
    writeFileSync(join(p.dir, uws), Buffer.alloc(good.length)); // same size: only the content tells
    const v = await run(p, p.exe, ["--version"]);
    t.equal(v.code, 0, v.stderr);
    t.match(v.stdout, /^uWebSockets\.js \S+ \(native\)$/m);
    t.ok(readFileSync(join(p.dir, uws)).equals(good), "the cached copy is whole again");
  });

  t.test("a cache folder that cannot be written: one clear line, exit 1", async (t) => {
    const p = place(t);
    const blocker = join(p.dir, "not-a-folder");
    writeFileSync(blocker, "");
    const r = await run(p, p.exe, ["run", p.project, "--port", "0"], { ...p.env, CALYX_CACHE_DIR: join(blocker, "cache") });
    t.equal(r.code, 1);
    t.match(r.stderr, /^calyx: error: cannot write to the cache folder .*not-a-folder\/cache\/[^ ]+ \(ENOTDIR\).*Set CALYX_CACHE_DIR to a writable folder/m);
    t.notMatch(r.stderr, /internal error|    at /, "no stack trace");
  });

  t.test("calyx build: one file that serves the project with --data", async (t) => {
    const p = place(t);
    const service = join(p.dir, "my-service");
    const b = await run(p, p.exe, ["build", p.project, "-o", service]);
    t.equal(b.code, 0, b.stderr);
    t.match(b.stdout, /calyx: built .*my-service/);
    // The project must come from the executable alone: remove the sources.
    rmSync(p.project, { recursive: true });
    const data = join(p.dir, "service-data");
    const svc = await start(t, p, service, ["run", "--port", "0", "--data", data]);
    t.same(await body(await post(svc.url, "/customers/c9", { name: "Cy", email: "c@x.io" })), "done");
    t.same(await body(await fetch(`${svc.url}/customers/by-name/Cy`)), [{ name: "Cy", email: "c@x.io" }]);
    svc.proc.kill("SIGTERM");
    t.equal(await svc.exited, 0);
    t.ok(existsSync(data), "data went to --data");
    const v = await run(p, service, ["--version"]);
    t.match(v.stdout, /^project embedded by calyx build \(sha256 [0-9a-f]{16}\)$/m);
  });

  t.test("calyx new, calyx test and calyx dev (hot reload) work from the executable alone", async (t) => {
    const p = place(t);
    const made = await run(p, p.exe, ["new", "shop"]);
    t.equal(made.code, 0, made.stderr);
    const shop = join(p.dir, "shop");
    t.ok(existsSync(join(shop, "types/calyx/index.d.ts")), "calyx new writes the calyx declarations from the executable");
    // The project's tests import calyx/testkit and start a runtime: all from the executable.
    const tested = await run(p, p.exe, ["test", "shop"]);
    t.equal(tested.code, 0, tested.stdout + tested.stderr);
    t.match(tested.stdout, /^# fail 0$/m);

    const dev = await start(t, p, p.exe, ["dev", "shop", "--port", "0"]);
    t.equal((await post(dev.url, "/customers/c1", { name: "Ann", email: "a@x.io" })).status, 200);
    const view = join(shop, "src/customers-by-name.ts");
    const before = readFileSync(view, "utf8");
    const after = before.replace("/customers/by-name/", "/people/by-name/");
    t.not(after, before, "the scaffold's view has the route this test renames");
    writeFileSync(view, after);
    // Poll with a deadline: the watcher reloads on its own schedule.
    const deadline = Date.now() + START_DEADLINE_MS;
    let status = 0;
    while (Date.now() < deadline && (status = (await fetch(`${dev.url}/people/by-name/Ann`)).status) !== 200) await new Promise((r) => setTimeout(r, 50));
    t.equal(status, 200, "the renamed route answers after the reload");
    t.same(await body(await fetch(`${dev.url}/people/by-name/Ann`)), [{ name: "Ann", email: "a@x.io" }], "data kept across the reload");
    dev.proc.kill("SIGTERM");
    t.equal(await dev.exited, 0);
  });

  t.test("calyx build refuses a project that does not compile", async (t) => {
    const p = place(t);
    writeFileSync(join(p.project, "src/broken.ts"), "export const b = (;\n");
    const r = await run(p, p.exe, ["build", p.project, "-o", join(p.dir, "svc")]);
    t.equal(r.code, 1);
    t.match(r.stderr, /calyx: error: the project does not compile:\nsrc\/broken\.ts: /);
    t.notOk(existsSync(join(p.dir, "svc")));
  });
}
