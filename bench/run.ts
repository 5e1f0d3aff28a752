// npm run bench -- <scenario…|all> [--quick] [options]
//
// Runs benchmark scenarios against Calyx and the baselines in one session and
// writes bench/results/<scenario>.json; `npm run bench:report` (bench/report.ts)
// turns those into bench/RESULTS.md. See bench/README.md.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { Generator } from "./lib/generator.js";
import { BENCH_DIR, REPO_DIR, RESULTS_DIR, TMP_DIR } from "./lib/paths.js";
import { canRaisePriority, setBenchNice } from "./lib/proc.js";
import { Session } from "./lib/session.js";
import { buildCalyx, TargetUnavailable, type CalyxBuild, type TargetName } from "./lib/targets.js";
import { runAdHocLoad } from "./lib/adhoc.js";
import { SCENARIOS } from "./scenarios/index.js";

const HELP = `usage: npm run bench -- <scenario…|all> [--quick] [options]

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(18)} ${s.description}`).join("\n")}
  load               ad-hoc open-loop load against a running server (--url, --rate, --duration, --mix)
  live               bench/live/live.ts: commit → subscriber latency with 10,000 live subscriptions (2,000 with --quick)
  storage, query, startup, host (or bench/<folder>, or a file such as bench/storage/commit.ts):
                     the micro-benchmarks there (every file with a --quick mode), run as they are
  all                every scenario above, then those micro-benchmarks

options:
  --quick              short run (each scenario ≤ 1 minute), fewer customers; for CI and smoke tests
  --repeats N          repeats of every measurement (default 1 quick, 3 full)
  --targets a,b        servers to measure (default uws-hello,fastify-sqlite,restate,calyx; restate only where
                       installed: npm run bench:restate-install, and only in max and hot-entity)
  --calyx PATH         use this Calyx entry (e.g. build/calyx.cjs or dist/calyx) instead of building the working tree
  --workers N          Calyx worker threads (default: Calyx's own default)
  --durability MODE    Calyx durability: full (default), batched, none
  --query-cache-mb N   Calyx's query result cache budget (default: Calyx's own, 32; 0 = off: every query runs)
  --reply-cache-mb N   Calyx's reply cache budget for pure commands (default: Calyx's own, 32; 0 = off)
  --cpu-prof           write V8 CPU profiles of Calyx (main thread and workers) to bench/results/tmp/prof-*/ and summarise them
  --connections N      open-loop connections (default 128)
  --gen-procs N        load-generator processes (default 1: the machine has few cores)
  --nice N             run servers, generators and wrk at nice N (default -10 as root, else 0): shields them from other work on a shared machine
  --quiet-wait S       wait up to S seconds before each step for other processes to go quiet (default 0 quick, 20 full; 0 = never)
  --set name=value     override a scenario setting (e.g. --set customers=1000000 --set rates=1000,4000)
`;

const KNOWN_TARGETS: readonly TargetName[] = ["uws-hello", "fastify-sqlite", "restate", "calyx"];

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      repeats: { type: "string" },
      targets: { type: "string" },
      calyx: { type: "string" },
      workers: { type: "string" },
      "query-cache-mb": { type: "string" },
      "reply-cache-mb": { type: "string" },
      durability: { type: "string", default: "full" },
      "cpu-prof": { type: "boolean", default: false },
      connections: { type: "string", default: "128" },
      "gen-procs": { type: "string", default: "1" },
      "quiet-wait": { type: "string" },
      nice: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      // ad-hoc load
      url: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      mix: { type: "string" },
      customers: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  return { values, positionals };
}

/** Folders of micro-benchmarks owned by other parts of the project. */
const EXTERNAL_DIRS = ["live", "storage", "query", "startup", "host"] as const;

/**
 * The micro-benchmark files of bench/<name>/ (or bench/<name>.ts … as a path):
 * every *.ts whose header documents a `[--quick]` mode, so that soak scripts
 * (fuzzers) without one are not run by `all`.
 */
function externalBenchmarks(name: string): string[] {
  const dir = name.startsWith("bench/") ? join(REPO_DIR, name) : join(BENCH_DIR, name);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const file = join(REPO_DIR, name);
    return name.endsWith(".ts") && existsSync(file) ? [file] : [];
  }
  return readdirSync(dir).filter((f) => f.endsWith(".ts")).sort().map((f) => join(dir, f))
    .filter((f) => readFileSync(f, "utf8").slice(0, 1_500).includes("[--quick]"));
}

function externalNames(): string[] {
  return EXTERNAL_DIRS.map((n) => `bench/${n}`).filter((n) => externalBenchmarks(n).length > 0);
}

/**
 * Runs one micro-benchmark file, printing its output as it comes and keeping
 * it in bench/results/micro/<folder>-<file>[-quick].txt for the report.
 */
function runTee(file: string, quick: boolean): Promise<number | string> {
  const out = join(RESULTS_DIR, "micro", `${relative(BENCH_DIR, file).replace(/\.ts$/, "").replace(/[\\/]/g, "-")}${quick ? "-quick" : ""}.txt`);
  mkdirSync(join(RESULTS_DIR, "micro"), { recursive: true });
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file, ...(quick ? ["--quick"] : [])], { stdio: ["inherit", "pipe", "inherit"], cwd: REPO_DIR });
    child.stdout.on("data", (d: Buffer) => {
      process.stdout.write(d);
      chunks.push(d);
    });
    child.on("close", (code, signal) => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (code === 0) writeFileSync(out, `# ${relative(REPO_DIR, file)}${quick ? " --quick" : ""} — ${new Date().toISOString()}, commit ${gitCommit()}\n\n${text}`);
      resolve(code ?? signal ?? "unknown");
    });
  });
}

function gitCommit(): string {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_DIR, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

async function main(): Promise<number> {
  const { values, positionals } = parse();
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const quick = values.quick;
  if (positionals[0] === "load") return runAdHocLoad(values);

  const names = positionals.includes("all") ? [...SCENARIOS.map((s) => s.name), ...externalNames()] : positionals;
  for (const n of names) {
    if (!SCENARIOS.some((s) => s.name === n) && externalBenchmarks(n).length === 0) {
      process.stderr.write(`bench: unknown scenario '${n}'\n\n${HELP}`);
      return 2;
    }
  }
  const targets = (values.targets?.split(",") ?? KNOWN_TARGETS) as TargetName[];
  for (const t of targets) if (!KNOWN_TARGETS.includes(t)) throw new Error(`--targets: unknown target '${t}' (known: ${KNOWN_TARGETS.join(", ")})`);
  const durability = values.durability;
  if (durability !== "full" && durability !== "batched" && durability !== "none") throw new Error(`--durability must be full, batched or none`);

  let calyx: CalyxBuild | undefined;
  let calyxUnavailable: string | undefined;
  if (targets.includes("calyx") && names.some((n) => SCENARIOS.some((s) => s.name === n))) {
    try {
      process.stdout.write(values.calyx ? `using Calyx at ${values.calyx}\n` : "building Calyx from the working tree (scripts/build.mjs → bench/results/tmp/calyx-build)…\n");
      calyx = await buildCalyx(values.calyx);
    } catch (error) {
      calyxUnavailable = error instanceof TargetUnavailable ? error.message : String(error);
      process.stdout.write(`Calyx is not measured in this run: ${calyxUnavailable}\n`);
    }
  }
  let cpuProfDir: string | undefined;
  if (values["cpu-prof"]) {
    cpuProfDir = join(TMP_DIR, `prof-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    mkdirSync(cpuProfDir, { recursive: true });
  }
  const overrides: Record<string, string> = {};
  for (const kv of values.set) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new Error(`--set expects name=value, got '${kv}'`);
    overrides[kv.slice(0, i)] = kv.slice(i + 1);
  }
  setBenchNice(Number(values.nice ?? (canRaisePriority() ? -10 : 0)));
  const generator = await Generator.start({ processes: Number(values["gen-procs"]) });
  let current: Session | undefined;
  // Ctrl-C: stop the servers we started (they would outlive us otherwise).
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbench: ${signal}: stopping servers…\n`);
    generator.stop();
    void (current?.stopAll() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  let failed = 0;
  try {
    for (const name of names) {
      const scenario = SCENARIOS.find((s) => s.name === name);
      if (scenario === undefined) {
        for (const file of externalBenchmarks(name)) {
          process.stdout.write(`\n== ${relative(REPO_DIR, file)}${quick ? " --quick" : ""} ==\n`);
          const status = await runTee(file, quick);
          if (status !== 0) {
            failed++;
            process.stderr.write(`bench: ${relative(REPO_DIR, file)} exited with ${status}\n`);
          }
        }
        continue;
      }
      process.stdout.write(`\n== ${scenario.name}${quick ? " (quick)" : ""} ==\n`);
      const session = new Session({
        quick, repeats: Number(values.repeats ?? (quick ? 1 : 3)), targets, workers: values.workers === undefined ? undefined : Number(values.workers),
        queryCacheMb: values["query-cache-mb"] === undefined ? undefined : Number(values["query-cache-mb"]),
        replyCacheMb: values["reply-cache-mb"] === undefined ? undefined : Number(values["reply-cache-mb"]),
        durability, cpuProfDir, calyx, calyxUnavailable,
        quietWaitMs: Number(values["quiet-wait"] ?? (quick ? 0 : 20)) * 1000,
        generatorProcesses: Number(values["gen-procs"]), connections: Number(values.connections), overrides,
        partial: values.targets !== undefined && !KNOWN_TARGETS.every((t) => targets.includes(t)),
      }, generator);
      const f = session.machine.fsync;
      process.stdout.write(`machine: ${session.machine.cores} cores, ${session.machine.cpuModel}, ${session.machine.kernel}; fsync p50 ${f.p50Ms} ms p99 ${f.p99Ms} ms; commit ${session.run.commit}${session.run.dirty.length > 0 ? ` + ${session.run.dirty.length} uncommitted files in src/bin/scripts` : ""}\n`);
      current = session;
      const started = performance.now();
      try {
        const result = await scenario.run(session);
        process.stdout.write(`\n${result.summary.join("\n")}\n\nwrote ${relative(REPO_DIR, session.resultFile)} (${((performance.now() - started) / 1000).toFixed(0)} s)${session.options.partial ? " — not all targets: kept out of bench/results/" : ""}\n`);
      } catch (error) {
        failed++;
        process.stderr.write(`bench: ${scenario.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        await session.stopAll();
      }
    }
  } finally {
    generator.stop();
  }
  return failed > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
