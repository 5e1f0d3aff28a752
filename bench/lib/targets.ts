// The servers under test: Calyx and the baselines, each started as its own
// process, waited for (its "listening on http://…" line), checked with a few
// real requests, preloaded, and stopped with SIGINT (so that Calyx commits and
// closes, and --cpu-prof profiles get written).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundlePath, ensureBundles } from "./bundle.js";
import { CUSTOMER_PATHS, customerName, customerPath, nameCount, type CustomerPaths, type DatasetSpec } from "./dataset.js";
import type { Generator, StepResult } from "./generator.js";
import { REPO_DIR, TMP_DIR } from "./paths.js";
import { niced, processRssKb } from "./proc.js";

export type TargetName = "uws-hello" | "fastify-sqlite" | "calyx" | "restate";

export const TARGET_LABELS: Record<TargetName, string> = {
  "uws-hello": "uWS hello-world (ceiling)",
  "fastify-sqlite": "Fastify + better-sqlite3 (WAL, synchronous=FULL)",
  calyx: "Calyx",
  restate: "Restate (single node, virtual object on the Node SDK)",
};

/** Restate's folder: its launcher, and its own node_modules (npm run bench:restate-install). */
const RESTATE_DIR = join(REPO_DIR, "bench", "baselines", "restate");
/** Restate's virtual object has no by-name query: the scenarios leave that operation out for it. */
export const RESTATE_PATHS: CustomerPaths = { get: ["/customer/", "/get"], post: ["/customer/", "/create"] };

export function pathsOf(name: TargetName): CustomerPaths {
  return name === "restate" ? RESTATE_PATHS : CUSTOMER_PATHS;
}

/** Whether the target serves the by-name view query (Restate has no views). */
export function hasViews(name: TargetName): boolean {
  return name !== "restate";
}

const LISTEN_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;
const OUTPUT_KEEP_CHARS = 16_384;
/** Connections used to preload through the service's own API. */
const PRELOAD_CONNECTIONS = 64;

export interface CalyxBuild {
  /** build/calyx.cjs or an equivalent entry (or a single executable). */
  readonly entry: string;
  readonly isExecutable: boolean;
}

export interface TargetOptions {
  /** Customers to preload (0 = none). */
  readonly customers: number;
  /** Reuse this data folder (kept on stop); default: a fresh temporary one (removed on stop). */
  readonly dataDir?: string;
  readonly workers?: number;
  /** Calyx's --query-cache-mb. */
  readonly queryCacheMb?: number;
  /** Calyx's --reply-cache-mb. */
  readonly replyCacheMb?: number;
  readonly durability?: "full" | "batched" | "none";
  /** Calyx project folder; default examples/customer-registry. */
  readonly project?: string;
  /** Write V8 CPU profiles of the server (all threads) here. */
  readonly cpuProfDir?: string;
  /** Extra environment for the server process. */
  readonly env?: Readonly<Record<string, string>>;
  readonly calyx?: CalyxBuild;
  /** Generator used to preload through the API (Calyx). */
  readonly generator?: Generator;
  readonly log: (line: string) => void;
}

export interface PreloadInfo {
  readonly customers: number;
  readonly ms: number;
  /** "api" = N POSTs through the service; "bulk" = one SQL transaction at start-up. */
  readonly path: "api" | "bulk" | "none" | "existing";
  readonly step?: StepResult;
}

export interface Target {
  readonly name: TargetName;
  readonly label: string;
  readonly host: string;
  readonly port: number;
  /** The server's (first) process. */
  readonly pid: number;
  /** All its processes, pid first (Restate: the SDK service and restate-server); CPU figures sum them. */
  readonly pids: readonly number[];
  /** Its URLs for one customer. */
  readonly paths: CustomerPaths;
  /** spawn → "listening" line, ms. */
  readonly listenMs: number;
  readonly dataDir: string | undefined;
  preload: PreloadInfo;
  rssKb(): number | undefined;
  output(): string;
  /** SIGINT, wait (bounded), SIGKILL; removes a temporary data folder. */
  stop(): Promise<number | null>;
}

/** Why a target could not run, to print instead of its numbers. */
export class TargetUnavailable extends Error {
  readonly code = "ERR_TARGET_UNAVAILABLE";
}

let calyxBuild: Promise<CalyxBuild> | undefined;

/**
 * Builds the runtime from the working tree into bench/results/tmp/calyx-build
 * (scripts/build.mjs, same settings as `npm run build`) so that a benchmark
 * never races other people's `npm run build` over build/.
 */
export function buildCalyx(explicit?: string): Promise<CalyxBuild> {
  calyxBuild ??= (async () => {
    if (explicit !== undefined) {
      if (!existsSync(explicit)) throw new TargetUnavailable(`--calyx ${explicit}: no such file`);
      return { entry: explicit, isExecutable: !/\.(c|m)?js$/.test(explicit) };
    }
    const outdir = join(TMP_DIR, "calyx-build");
    const mod = (await import(pathToFileURL(join(REPO_DIR, "scripts", "build.mjs")).href)) as {
      buildRuntime(o: { outdir: string }): Promise<void>;
    };
    try {
      await mod.buildRuntime({ outdir });
    } catch (error) {
      throw new TargetUnavailable(`the Calyx runtime does not build from the working tree: ${firstLine(error)}`);
    }
    return { entry: join(outdir, "calyx.cjs"), isExecutable: false };
  })();
  return calyxBuild;
}

function firstLine(error: unknown): string {
  const s = error instanceof Error ? error.message : String(error);
  return s.split("\n").slice(0, 3).join(" | ");
}

interface Launch {
  readonly command: string;
  readonly args: string[];
  readonly dataDir: string | undefined;
  readonly removeDataDir: boolean;
}

async function launchFor(name: TargetName, opts: TargetOptions): Promise<Launch> {
  const prof = opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const fresh = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `calyx-bench-${name}-`));
  switch (name) {
    case "uws-hello":
      await ensureBundles();
      rmSync(dataDir, { recursive: true, force: true });
      return { command: process.execPath, args: [...prof, bundlePath("uws-hello"), "--port", "0"], dataDir: undefined, removeDataDir: false };
    case "fastify-sqlite":
      await ensureBundles();
      return {
        command: process.execPath,
        args: [...prof, bundlePath("fastify-sqlite"), "--port", "0", "--data", dataDir, "--preload", String(opts.customers)],
        dataDir, removeDataDir: fresh,
      };
    case "restate":
      if (!existsSync(join(RESTATE_DIR, "node_modules", "@restatedev", "restate-sdk"))) {
        rmSync(dataDir, { recursive: true, force: true });
        throw new TargetUnavailable("Restate is not installed: run `npm run bench:restate-install` (bench/baselines/restate/README.md)");
      }
      return { command: process.execPath, args: [join(RESTATE_DIR, "customer-object.mjs"), "--data", dataDir], dataDir, removeDataDir: fresh };
    case "calyx": {
      const build = opts.calyx ?? (await buildCalyx());
      const project = opts.project ?? join(REPO_DIR, "examples", "customer-registry");
      const runArgs = ["run", project, "--port", "0", "--data", dataDir, "--durability", opts.durability ?? "full", "--log-level", "warn"];
      if (opts.workers !== undefined) runArgs.push("--workers", String(opts.workers));
      if (opts.queryCacheMb !== undefined) runArgs.push("--query-cache-mb", String(opts.queryCacheMb));
      if (opts.replyCacheMb !== undefined) runArgs.push("--reply-cache-mb", String(opts.replyCacheMb));
      if (build.isExecutable) return { command: build.entry, args: runArgs, dataDir, removeDataDir: fresh };
      return { command: process.execPath, args: [...prof, build.entry, ...runArgs], dataDir, removeDataDir: fresh };
    }
  }
}

/** A started server process, before any request was sent to it. */
export interface Spawned {
  readonly name: TargetName;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** performance.now() when spawn() was called. */
  readonly spawnedAt: number;
  /** spawn → "listening" line, ms. */
  readonly listenMs: number;
  readonly dataDir: string | undefined;
  /** fastify-sqlite --preload: ms its bulk insert took. */
  readonly bulkPreloadMs: number | undefined;
  /** Processes it started that belong to it (Restate's server). */
  readonly childPids: readonly number[];
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts a server and waits for its "listening on http://…" line; nothing else. */
export async function spawnTarget(name: TargetName, opts: TargetOptions): Promise<Spawned> {
  const launch = await launchFor(name, opts);
  const spawnedAt = performance.now();
  const cmd = niced(launch.command, launch.args);
  const child = spawn(cmd.command, cmd.args, {
    cwd: REPO_DIR, stdio: ["ignore", "pipe", "pipe"],
    // The profile needs a clean exit; NODE_OPTIONS from the driver (tsx) must not leak in.
    env: { ...process.env, NODE_OPTIONS: "", ...opts.env },
  });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
    if (output.length > OUTPUT_KEEP_CHARS * 2) output = output.slice(-OUTPUT_KEEP_CHARS);
  };
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))));
  let bulkPreloadMs: number | undefined;
  const childPids: number[] = [];
  let listening = false;
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TargetUnavailable(`${name} did not print "listening on" within ${LISTEN_TIMEOUT_MS} ms\n${output.slice(-2000)}`)), LISTEN_TIMEOUT_MS);
    let line = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      keep(chunk);
      if (listening) return;
      line += chunk.toString("utf8");
      const pre = /preloaded \d+ customers in (\d+) ms/.exec(line);
      if (pre) bulkPreloadMs = Number(pre[1]);
      const server = /restate-server pid (\d+)/.exec(line);
      if (server && childPids.length === 0) childPids.push(Number(server[1]));
      const m = /listening on (http:\/\/[^\s"]+)/.exec(line);
      if (m) {
        listening = true;
        clearTimeout(timer);
        resolve(new URL(m[1] as string));
      }
      if (line.length > OUTPUT_KEEP_CHARS) line = line.slice(-1024);
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new TargetUnavailable(`${name} failed to start: ${e.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new TargetUnavailable(`${name} exited (code ${code}) before listening:\n${output.slice(-2000)}`));
    });
  }).catch(async (error: unknown) => {
    await stopChild(child, exited, launch);
    throw error;
  });
  return {
    name, host: url.hostname, port: Number(url.port), pid: child.pid as number, spawnedAt,
    listenMs: performance.now() - spawnedAt, dataDir: launch.dataDir, bulkPreloadMs, childPids,
    output: () => output,
    stop: () => stopChild(child, exited, launch),
  };
}

export async function startTarget(name: TargetName, opts: TargetOptions): Promise<Target> {
  const sp = await spawnTarget(name, opts);
  const target: Target = {
    name, label: TARGET_LABELS[name], host: sp.host, port: sp.port, pid: sp.pid, pids: [sp.pid, ...sp.childPids], paths: pathsOf(name),
    listenMs: sp.listenMs,
    dataDir: sp.dataDir,
    preload: { customers: 0, ms: 0, path: "none" },
    rssKb: () => processRssKb(sp.pid),
    output: sp.output,
    stop: sp.stop,
  };
  try {
    await check(target);
    target.preload = await preload(target, opts, sp.bulkPreloadMs);
  } catch (error) {
    await target.stop();
    throw error instanceof TargetUnavailable ? error : new TargetUnavailable(`${name}: ${firstLine(error)}\n${sp.output().slice(-1500)}`);
  }
  return target;
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, launch: Launch): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), STOP_TIMEOUT_MS).unref());
  let code = await Promise.race([exited, timeout]);
  if (code === "timeout") {
    child.kill("SIGKILL");
    code = await exited;
  }
  if (launch.removeDataDir && launch.dataDir) rmSync(launch.dataDir, { recursive: true, force: true });
  return code;
}

/** A few real requests: a server that answers wrongly is not benchmarked. */
async function check(t: Target): Promise<void> {
  if (t.name === "uws-hello") return;
  const base = `http://${t.host}:${t.port}`;
  const name = "BenchCheckName";
  const spec = { customers: 1, paths: t.paths };
  const postPath = customerPath(spec, "post", "bench-check");
  const post = await fetch(base + postPath, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, email: "check@example.com" }),
  });
  if (post.status !== 200) throw new TargetUnavailable(`${t.name}: POST ${postPath} answered ${post.status}: ${await post.text()}`);
  await post.arrayBuffer().catch(() => undefined);
  const getPath = customerPath(spec, "get", "bench-check");
  const get = await fetch(base + getPath);
  const got = (await get.json()) as { name?: string };
  if (get.status !== 200 || got.name !== name) throw new TargetUnavailable(`${t.name}: GET ${getPath} answered ${get.status} ${JSON.stringify(got)}`);
  if (!hasViews(t.name)) return;
  // Views may be maintained asynchronously: allow a moment for the row to appear.
  const deadline = performance.now() + 2_000;
  for (;;) {
    const q = await fetch(`${base}/customers/by-name/${name}`);
    const rows = (await q.json()) as unknown;
    if (q.status === 200 && Array.isArray(rows) && rows.length >= 1) return;
    if (performance.now() > deadline) throw new TargetUnavailable(`${t.name}: GET /customers/by-name/${name} answered ${q.status} ${JSON.stringify(rows).slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function preload(t: Target, opts: TargetOptions, bulkMs: number | undefined): Promise<PreloadInfo> {
  if (t.name === "uws-hello" || opts.customers <= 0) return { customers: 0, ms: 0, path: "none" };
  if (t.name === "fastify-sqlite") return { customers: opts.customers, ms: bulkMs ?? 0, path: "bulk" };
  // Calyx and Restate: through the service's own POST API. A reused data
  // folder that already holds the last customer is taken as preloaded.
  const base = `http://${t.host}:${t.port}`;
  const dataset: DatasetSpec = { customers: opts.customers, paths: t.paths };
  const last = await fetch(base + customerPath(dataset, "get", `c${opts.customers - 1}`));
  await last.arrayBuffer();
  if (last.status === 200) return { customers: opts.customers, ms: 0, path: "existing" };
  if (!opts.generator) throw new Error("preloading Calyx needs a generator");
  opts.log(`  preloading ${opts.customers} customers into ${t.name} through POST ${customerPath(dataset, "post", ":id")} (${PRELOAD_CONNECTIONS} connections)…`);
  const step = await opts.generator.run({
    kind: "preload", host: t.host, port: t.port, serverPids: [t.pids], seed: 1,
    dataset, from: 0, to: opts.customers, connections: PRELOAD_CONNECTIONS,
  });
  const errors = step.classes[0]?.errors ?? 0;
  if (errors > 0) throw new Error(`preload: ${errors} of ${opts.customers} POSTs failed: ${JSON.stringify(step.classes[0]?.statuses)}`);
  if (!hasViews(t.name)) return { customers: opts.customers, ms: step.elapsedMs, path: "api", step };
  // Wait until the view has caught up with the last write (if views lag).
  const name = customerName((opts.customers - 1) % nameCount({ customers: opts.customers } satisfies DatasetSpec));
  const deadline = performance.now() + 30_000;
  for (;;) {
    const rows = (await (await fetch(`${base}/customers/by-name/${name}`)).json()) as { email?: string }[];
    if (Array.isArray(rows) && rows.some((r) => r.email === `c${opts.customers - 1}.0@example.com`)) break;
    if (performance.now() > deadline) throw new Error(`preload: the by-name view did not show c${opts.customers - 1} within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { customers: opts.customers, ms: step.elapsedMs, path: "api", step };
}
