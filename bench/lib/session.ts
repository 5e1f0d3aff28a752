// What every scenario shares: options, the generator, starting the servers
// under test (and saying why one could not run), waiting for a quiet machine,
// and writing the result file the report is built from.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Generator } from "./generator.js";
import { machineInfo, probeFsync, runInfo, type FsyncProbe, type MachineInfo, type RunInfo } from "./machine.js";
import { RESULTS_DIR, TMP_DIR } from "./paths.js";
import { getBenchNice, machineBusy, machineCpu, processCpuMs } from "./proc.js";
import { startTarget, TargetUnavailable, type CalyxBuild, type Target, type TargetName, type TargetOptions } from "./targets.js";

export interface SessionOptions {
  readonly quick: boolean;
  /** Repeats of every measurement (min–max are over these). */
  readonly repeats: number;
  readonly targets: readonly TargetName[];
  readonly workers: number | undefined;
  /** Calyx's --query-cache-mb (undefined: its default). */
  readonly queryCacheMb?: number | undefined;
  /** Calyx's --reply-cache-mb (undefined: its default). */
  readonly replyCacheMb?: number | undefined;
  readonly durability: "full" | "batched" | "none";
  readonly cpuProfDir: string | undefined;
  readonly calyx: CalyxBuild | undefined;
  /** Why Calyx cannot run (it did not build), if so. */
  readonly calyxUnavailable: string | undefined;
  /** Before each step, wait up to this long for other processes to go quiet. */
  readonly quietWaitMs: number;
  /** Generator processes. */
  readonly generatorProcesses: number;
  /** Load-generator connections (open loop). */
  readonly connections: number;
  /** Not every target was asked for (--targets): the result goes to results/tmp/, not over the canonical file. */
  readonly partial: boolean;
  /** Overrides of per-scenario settings (e.g. customers), from --set k=v. */
  readonly overrides: Readonly<Record<string, string>>;
}

export interface ScenarioResult<D = unknown> {
  readonly scenario: string;
  readonly mode: "quick" | "full";
  readonly machine: MachineInfo;
  /** The fsync probe again at the end: the disk is shared, and its latency drifts. */
  readonly fsyncAfter?: FsyncProbe;
  readonly run: RunInfo;
  readonly settings: Record<string, unknown>;
  /** Target → why it did not run. */
  readonly unavailable: Record<string, string>;
  readonly data: D;
  /** Human-readable lines printed at the end of the run (also kept in the file). */
  readonly summary: readonly string[];
}

/** Processes outside the benchmark using less than this share of a core count as quiet. */
const QUIET_CPU = 0.25;
const QUIET_SAMPLE_MS = 500;

export class Session {
  readonly options: SessionOptions;
  readonly generator: Generator;
  readonly machine: MachineInfo;
  readonly run: RunInfo;
  readonly unavailable: Record<string, string> = {};
  readonly targets: Target[] = [];
  /** Steps that found the machine busy and waited (or gave up waiting). */
  contendedWaits = 0;
  /** Where save() wrote the result. */
  resultFile = "";

  constructor(options: SessionOptions, generator: Generator) {
    this.options = options;
    this.generator = generator;
    this.machine = machineInfo();
    this.run = runInfo();
    if (options.calyxUnavailable !== undefined) this.unavailable["calyx"] = options.calyxUnavailable;
  }

  log(line: string): void {
    process.stdout.write(line + "\n");
  }

  /** A numeric setting: --set name=value, else quick or full default. */
  setting(name: string, quick: number, full: number): number {
    const v = this.options.overrides[name];
    if (v !== undefined) {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`--set ${name}=${v}: not a number`);
      return n;
    }
    return this.options.quick ? quick : full;
  }

  /** A list setting: --set name=a,b,c, else quick or full default. */
  listSetting(name: string, quick: readonly number[], full: readonly number[]): number[] {
    const v = this.options.overrides[name];
    if (v !== undefined) return v.split(",").map(Number);
    return [...(this.options.quick ? quick : full)];
  }

  wants(name: TargetName): boolean {
    return this.options.targets.includes(name) && this.unavailable[name] === undefined;
  }

  /** Starts the wanted targets one by one; one that fails is recorded, not fatal. */
  async startTargets(names: readonly TargetName[], opts: Omit<TargetOptions, "log" | "generator" | "calyx" | "workers" | "durability" | "cpuProfDir" | "queryCacheMb" | "replyCacheMb">): Promise<Target[]> {
    const started: Target[] = [];
    for (const name of names) {
      if (!this.wants(name)) continue;
      const t = await this.startTarget(name, opts);
      if (t) started.push(t);
    }
    return started;
  }

  async startTarget(name: TargetName, opts: Omit<TargetOptions, "log" | "generator" | "calyx" | "workers" | "durability" | "cpuProfDir" | "queryCacheMb" | "replyCacheMb">): Promise<Target | undefined> {
    this.log(`starting ${name}…`);
    try {
      const t = await startTarget(name, {
        ...opts, log: (l) => this.log(l), generator: this.generator,
        ...(this.options.calyx ? { calyx: this.options.calyx } : {}),
        ...(this.options.workers !== undefined ? { workers: this.options.workers } : {}),
        ...(this.options.queryCacheMb !== undefined ? { queryCacheMb: this.options.queryCacheMb } : {}),
        ...(this.options.replyCacheMb !== undefined ? { replyCacheMb: this.options.replyCacheMb } : {}),
        durability: this.options.durability,
        ...(this.options.cpuProfDir !== undefined && name === "calyx" ? { cpuProfDir: this.options.cpuProfDir } : {}),
      });
      this.targets.push(t);
      const pre = t.preload.path === "none" ? "" : `, ${t.preload.customers} customers preloaded (${t.preload.path}) in ${(t.preload.ms / 1000).toFixed(1)} s`;
      this.log(`  ${name}: pid ${t.pid}, port ${t.port}, listening after ${t.listenMs.toFixed(0)} ms${pre}`);
      return t;
    } catch (error) {
      const reason = error instanceof TargetUnavailable ? error.message : String(error);
      this.unavailable[name] = reason.split("\n").slice(0, 6).join("\n");
      this.log(`  ${name} is not measured: ${reason.split("\n")[0] ?? ""}`);
      return undefined;
    }
  }

  async stopTarget(t: Target): Promise<void> {
    const i = this.targets.indexOf(t);
    if (i >= 0) this.targets.splice(i, 1);
    const code = await t.stop();
    if (code !== 0 && code !== null) this.log(`  ${t.name} exited with code ${code}\n${t.output().slice(-800)}`);
  }

  async stopAll(): Promise<void> {
    for (const t of [...this.targets].reverse()) await this.stopTarget(t);
  }

  /** [this target, then every other running server], each as its processes: CPU is sampled for all. */
  pidsFor(t: Target): (readonly number[])[] {
    return [t.pids, ...this.targets.filter((o) => o !== t).map((o) => o.pids)];
  }

  /**
   * Waits (bounded) until processes outside the benchmark use less than a
   * quarter of a core: the machine is shared, and a step measured while
   * someone else compiles measures them.
   */
  async waitForQuiet(): Promise<void> {
    if (this.options.quietWaitMs <= 0) return;
    const deadline = performance.now() + this.options.quietWaitMs;
    const ours = (): number => [...this.targets.flatMap((t) => t.pids), ...this.generator.pids, process.pid]
      .reduce((s, pid) => s + (processCpuMs(pid) ?? 0), 0);
    let waited = false;
    for (;;) {
      const m0 = machineCpu();
      const o0 = ours();
      await new Promise((r) => setTimeout(r, QUIET_SAMPLE_MS));
      const foreign = machineBusy(m0, machineCpu()) * availableParallelism() - (ours() - o0) / QUIET_SAMPLE_MS;
      if (foreign < QUIET_CPU) break;
      if (!waited) {
        this.log(`  (machine busy: other processes use ${(foreign * 100).toFixed(0)}% of a core; waiting up to ${(this.options.quietWaitMs / 1000).toFixed(0)} s)`);
        waited = true;
        this.contendedWaits++;
      }
      if (performance.now() > deadline) {
        this.log(`  (still busy; measuring anyway — see the 'contended' notes)`);
        break;
      }
    }
  }

  /**
   * Writes bench/results/<scenario>.json (a full run) or <scenario>-quick.json
   * (a smoke run): a quick run never replaces the full run's figures, which
   * the report prefers.
   */
  save<D>(scenario: string, settings: Record<string, unknown>, data: D, render: (r: ScenarioResult<D>) => string[]): ScenarioResult<D> {
    const draft: ScenarioResult<D> = {
      scenario, mode: this.options.quick ? "quick" : "full", machine: this.machine, fsyncAfter: probeFsync(), run: this.run,
      settings: { ...settings, repeats: this.options.repeats, nice: getBenchNice(), connections: this.options.connections, generatorProcesses: this.options.generatorProcesses, workers: this.options.workers ?? "default", queryCacheMb: this.options.queryCacheMb ?? "default", replyCacheMb: this.options.replyCacheMb ?? "default", durability: this.options.durability, contendedWaits: this.contendedWaits },
      unavailable: this.unavailable, data, summary: [],
    };
    const result: ScenarioResult<D> = { ...draft, summary: render(draft) };
    const dir = this.options.partial ? TMP_DIR : RESULTS_DIR;
    mkdirSync(dir, { recursive: true });
    this.resultFile = join(dir, `${scenario}${this.options.quick ? "-quick" : ""}.json`);
    writeFileSync(this.resultFile, JSON.stringify(result, null, 1) + "\n");
    return result;
  }
}
