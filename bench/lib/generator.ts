// The driver's side of the load generator: forks generator processes, hands
// them jobs, merges their histograms and turns raw results into summaries
// that say whether the server or the generator was the limit.
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { bundlePath, ensureBundles } from "./bundle.js";
import { decode, merge, summarize, type Histogram, type LatencySummary } from "./histogram.js";
import type { ClassRaw, GeneratorMessage, Job, LoadRaw } from "./loadgen-protocol.js";
import { reniceThreads } from "./proc.js";

/** A generator using more than this share of one core may be the bottleneck. */
const GEN_CPU_BUSY = 0.85;
/** Generator lateness (p99) above which its own scheduling distorts latencies. */
const GEN_LAG_P99_MS = 5;
/** Achieved/offered below this means the load was not delivered. */
const RATE_SHORTFALL = 0.95;
/** Processes outside the benchmark using more than this share of a core: the step was contended. */
const FOREIGN_CPU_NOTE = 0.25;
/** Idle servers using more than this share of a core during a step get a note. */
const OTHERS_CPU_NOTE = 0.05;

export interface ClassResult {
  readonly name: string;
  readonly count: number;
  readonly errors: number;
  readonly statuses: Record<string, number>;
  /** Responses per second in the window. */
  readonly rate: number;
  /** From intended send time: what a user would see. */
  readonly latency: LatencySummary;
  /** From actual send time: server + network only. */
  readonly service: LatencySummary;
}

export type Verdict = "ok" | "server-saturated" | "generator-limited" | "errors";

export interface StepResult {
  readonly kind: Job["kind"];
  readonly offeredRate: number | null;
  /** Requests sent per second (window). */
  readonly sentRate: number;
  /** Responses per second (window): the achieved rate. */
  readonly achievedRate: number;
  readonly windowMs: number;
  readonly classes: readonly ClassResult[];
  /** Merged summaries, e.g. "reads" = read-id + read-name. */
  readonly groups: Record<string, LatencySummary>;
  readonly genLag: LatencySummary;
  readonly connWait: LatencySummary;
  readonly timedOut: number;
  readonly unsent: number;
  readonly aborted: boolean;
  readonly maxBacklog: number;
  /** Share of one core used by the server under test, all threads (1 = one full core). */
  readonly serverCpu: number | null;
  /**
   * Share of one core used by the main thread of the server under test (the
   * thread running the event loop: in Calyx HTTP, routing and the committer;
   * user code and most queries run in worker threads). A figure near 100%
   * means that thread, not the machine, is the limit.
   */
  readonly serverMainCpu: number | null;
  /** Same, summed over the other (idle) servers of the session. */
  readonly otherServersCpu: number | null;
  readonly generatorCpu: number;
  readonly generatorElu: number;
  /** Share of the whole machine busy (0..1). */
  readonly machineBusy: number;
  /**
   * CPU used by processes outside this benchmark (share of one core): the
   * machine is shared, and this says how much of it was not ours.
   */
  readonly foreignCpu: number | null;
  readonly connections: number;
  readonly socketErrors: number;
  readonly elapsedMs: number;
  readonly verdict: Verdict;
  readonly notes: readonly string[];
}

interface Pending {
  resolve(r: LoadRaw): void;
  reject(e: Error): void;
}

class GeneratorProcess {
  readonly #child: ChildProcess;
  #pending: Pending | undefined;
  readonly ready: Promise<void>;

  constructor(path: string) {
    this.#child = fork(path, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once("error", reject);
      this.#child.on("message", (m: GeneratorMessage) => {
        if (m.type === "ready") resolve();
        else if (m.type === "result") this.#settle((p) => p.resolve(m.result));
        else this.#settle((p) => p.reject(new Error(`load generator: ${m.message}`)));
      });
      this.#child.once("exit", (code) => {
        const e = new Error(`load generator exited (code ${code})`);
        reject(e);
        this.#settle((p) => p.reject(e));
      });
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  run(job: Job): Promise<LoadRaw> {
    if (this.#pending) throw new Error("a generator process runs one job at a time");
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#child.send(job);
    });
  }

  #settle(fn: (p: Pending) => void): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (p) fn(p);
  }

  stop(): void {
    this.#child.removeAllListeners("exit");
    if (this.#child.connected) this.#child.disconnect();
    this.#child.kill();
  }
}

export interface GeneratorOptions {
  /** Generator processes; the offered rate and connections are split evenly. */
  readonly processes: number;
}

/** One or more generator processes kept for a whole scenario (warm JIT). */
export class Generator {
  readonly #procs: GeneratorProcess[] = [];

  static async start(options: GeneratorOptions = { processes: 1 }): Promise<Generator> {
    await ensureBundles();
    const g = new Generator();
    for (let i = 0; i < options.processes; i++) g.#procs.push(new GeneratorProcess(bundlePath("loadgen")));
    await Promise.all(g.#procs.map((p) => p.ready));
    for (const p of g.#procs) reniceThreads(p.pid);
    return g;
  }

  get pids(): number[] {
    return this.#procs.map((p) => p.pid);
  }

  /** Runs a job (split across processes) and summarises it. */
  async run(job: Job, groups: Record<string, readonly string[]> = {}): Promise<StepResult> {
    const n = job.kind === "preload" ? 1 : this.#procs.length;
    const jobs: Job[] = [];
    for (let i = 0; i < n; i++) {
      if (job.kind === "open") jobs.push({ ...job, rate: job.rate / n, connections: Math.ceil(job.connections / n), seed: job.seed + i * 7919 });
      else if (job.kind === "closed") jobs.push({ ...job, connections: Math.ceil(job.connections / n), seed: job.seed + i * 7919 });
      else jobs.push(job);
    }
    const raws = await Promise.all(jobs.map((j, i) => (this.#procs[i] as GeneratorProcess).run(j)));
    return analyze(job, raws, groups);
  }

  stop(): void {
    for (const p of this.#procs) p.stop();
  }
}

function mergeClasses(raws: readonly LoadRaw[]): { name: string; count: number; errors: number; statuses: Record<string, number>; latency: Histogram; service: Histogram }[] {
  const first = raws[0] as LoadRaw;
  return first.classes.map((c, i) => {
    const parts = raws.map((r) => r.classes[i] as ClassRaw);
    const statuses: Record<string, number> = {};
    for (const p of parts) for (const [k, v] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    return {
      name: c.name,
      count: parts.reduce((s, p) => s + p.count, 0),
      errors: parts.reduce((s, p) => s + p.errors, 0),
      statuses,
      latency: merge(parts.map((p) => decode(p.latency))),
      service: merge(parts.map((p) => decode(p.service))),
    };
  });
}

function analyze(job: Job, raws: readonly LoadRaw[], groups: Record<string, readonly string[]>): StepResult {
  const windowMs = Math.max(...raws.map((r) => r.windowMs));
  const perSec = (n: number): number => (windowMs > 0 ? (n * 1000) / windowMs : 0);
  const classes = mergeClasses(raws);
  const sum = (f: (r: LoadRaw) => number): number => raws.reduce((s, r) => s + f(r), 0);
  // serverPids[0] is the server under test; the rest are other servers kept
  // running (idle) in the same session, watched so that their background work
  // cannot hide in this step's numbers. Each generator process samples the
  // same servers over (almost) the same window: average them.
  const avgCpu = (pick: (r: LoadRaw) => number | null): number | null => {
    const v = raws.map(pick);
    return v.every((x) => x !== null) ? (v as number[]).reduce((a, b) => a + b, 0) / v.length : null;
  };
  const serverMs = avgCpu((r) => r.serverCpuMs[0] ?? null);
  const serverMainMs = avgCpu((r) => r.serverMainCpuMs ?? null);
  const othersMs = avgCpu((r) => r.serverCpuMs.slice(1).reduce<number | null>((s, v) => (s === null || v === null ? null : s + v), 0));
  const genCpuMs = sum((r) => r.genCpuMs);
  const genLag = summarize(merge(raws.map((r) => decode(r.genLag))));
  const connWait = summarize(merge(raws.map((r) => decode(r.connWait))));
  const errors = classes.reduce((s, c) => s + c.errors, 0);
  const total = classes.reduce((s, c) => s + c.count, 0);
  const offeredRate = job.kind === "open" ? job.rate : null;
  const sentRate = perSec(sum((r) => r.sent));
  const achievedRate = perSec(sum((r) => r.completedInWindow));
  const generatorCpu = windowMs > 0 ? genCpuMs / windowMs / raws.length : 0;
  const generatorElu = raws.reduce((s, r) => s + r.genElu, 0) / raws.length;
  const aborted = raws.some((r) => r.aborted);
  const timedOut = sum((r) => r.timedOut);
  const unsent = sum((r) => r.unsent);

  const notes: string[] = [];
  let verdict: Verdict = "ok";
  const genBusy = generatorCpu >= GEN_CPU_BUSY || generatorElu >= GEN_CPU_BUSY;
  if (job.kind === "open") {
    const behind = genLag.p99 > GEN_LAG_P99_MS;
    const shortfall = achievedRate < RATE_SHORTFALL * job.rate;
    const queued = connWait.p99 > 1 || aborted || unsent > 0;
    if (aborted || timedOut > 0 || (shortfall && queued)) {
      verdict = "server-saturated";
      if (aborted) notes.push(`stopped early: requests waited > ${job.abortBacklogMs} ms for a connection (latencies are lower bounds)`);
    }
    if ((behind || (shortfall && !queued)) && genBusy) {
      verdict = "generator-limited";
      notes.push(`generator fell behind schedule (lag p99 ${genLag.p99} ms, CPU ${(generatorCpu * 100).toFixed(0)}% of a core, event loop ${(generatorElu * 100).toFixed(0)}% busy)`);
    } else if (behind) {
      notes.push(`generator lag p99 ${genLag.p99} ms with the generator not busy: the machine was (${((raws[0]?.machineBusy ?? 0) * 100).toFixed(0)}% of all cores busy)`);
    }
  } else if (job.kind === "closed" && genBusy) {
    verdict = "generator-limited";
    notes.push(`generator at ${(generatorCpu * 100).toFixed(0)}% of a core: closed-loop throughput may be the generator's, not the server's`);
  }
  if (errors > 0) {
    notes.push(`${errors} of ${total} responses were errors: ${JSON.stringify(Object.fromEntries(classes.map((c) => [c.name, c.statuses])))}`);
    if (verdict === "ok" && errors > total * 0.01) verdict = "errors";
  }
  if (othersMs !== null && windowMs > 0 && othersMs / windowMs > OTHERS_CPU_NOTE) {
    notes.push(`other servers of the session used ${((othersMs / windowMs) * 100).toFixed(0)}% of a core during this step`);
  }
  const machine = raws.reduce((s, r) => s + r.machineBusy, 0) / raws.length;
  const foreignCpu = serverMs === null || othersMs === null || windowMs <= 0 ? null
    : Math.max(0, machine * availableParallelism() - (serverMs + othersMs + genCpuMs) / windowMs);
  if (foreignCpu !== null && foreignCpu > FOREIGN_CPU_NOTE) {
    notes.push(`contended: processes outside the benchmark used ${(foreignCpu * 100).toFixed(0)}% of a core during this step`);
  }
  const byName = new Map(classes.map((c) => [c.name, c]));
  const groupSummaries: Record<string, LatencySummary> = {};
  for (const [g, members] of Object.entries(groups)) {
    const hs = members.map((m) => byName.get(m)?.latency).filter((h): h is Histogram => h !== undefined);
    if (hs.length > 0) groupSummaries[g] = summarize(merge(hs));
  }
  return {
    kind: job.kind, offeredRate, sentRate, achievedRate, windowMs,
    classes: classes.map((c) => ({
      name: c.name, count: c.count, errors: c.errors, statuses: c.statuses, rate: perSec(c.count),
      latency: summarize(c.latency), service: summarize(c.service),
    })),
    groups: groupSummaries, genLag, connWait, timedOut, unsent, aborted,
    maxBacklog: Math.max(...raws.map((r) => r.maxBacklog)),
    serverCpu: serverMs === null || windowMs <= 0 ? null : serverMs / windowMs,
    serverMainCpu: serverMainMs === null || windowMs <= 0 ? null : serverMainMs / windowMs,
    otherServersCpu: othersMs === null || windowMs <= 0 ? null : othersMs / windowMs,
    generatorCpu, generatorElu,
    machineBusy: machine, foreignCpu,
    connections: sum((r) => r.connections), socketErrors: sum((r) => r.socketErrors),
    elapsedMs: Math.max(...raws.map((r) => r.elapsedMs)), verdict, notes,
  };
}
