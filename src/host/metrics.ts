// Counters for /_calyx/metrics, in Prometheus' text format.
import type { CommitStats } from "../storage/committer.js";
import type { HistogramSnapshot } from "../storage/histogram.js";

/** What a cache reports (the reply cache, the query result cache). */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries dropped because a write may have changed them. */
  readonly invalidations: number;
  /** Entries dropped to stay within the budget. */
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
}

function cacheLines(name: string, what: string, s: CacheStats): string[] {
  const m = `calyx_${name}_cache`;
  return [
    `# HELP ${m}_requests_total ${what} looked up in the ${name} cache, by outcome.`,
    `# TYPE ${m}_requests_total counter`,
    `${m}_requests_total{outcome="hit"} ${s.hits}`,
    `${m}_requests_total{outcome="miss"} ${s.misses}`,
    `# HELP ${m}_dropped_total Cached answers dropped: a write may have changed them (invalidated), or the budget was full (evicted).`,
    `# TYPE ${m}_dropped_total counter`,
    `${m}_dropped_total{reason="invalidated"} ${s.invalidations}`,
    `${m}_dropped_total{reason="evicted"} ${s.evictions}`,
    `# HELP ${m}_entries Answers (and placeholders) in the ${name} cache.`,
    `# TYPE ${m}_entries gauge`,
    `${m}_entries ${s.entries}`,
    `# HELP ${m}_bytes Approximate size of the ${name} cache.`,
    `# TYPE ${m}_bytes gauge`,
    `${m}_bytes ${s.bytes}`,
  ];
}

function histogramLines(name: string, help: string, h: HistogramSnapshot): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  let cumulative = 0;
  h.bounds.forEach((bound, i) => {
    cumulative += h.counts[i] ?? 0;
    lines.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
  });
  lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum.toFixed(6)}`, `${name}_count ${h.count}`);
  return lines;
}

function commitLines(s: CommitStats): string[] {
  return [
    "# HELP calyx_commits_total Write transactions (batches of entity writes, one fsync each), by outcome.",
    "# TYPE calyx_commits_total counter",
    `calyx_commits_total{outcome="ok"} ${s.commits}`,
    `calyx_commits_total{outcome="failed"} ${s.failedCommits}`,
    "# HELP calyx_commit_writes_total Entity writes in committed batches (divided by calyx_commits_total: the mean batch).",
    "# TYPE calyx_commit_writes_total counter",
    `calyx_commit_writes_total ${s.writes}`,
    "# HELP calyx_commit_queue_writes Entity writes waiting for a commit or in one now.",
    "# TYPE calyx_commit_queue_writes gauge",
    `calyx_commit_queue_writes ${s.pending}`,
    "# HELP calyx_commit_apply_seconds_total Main-thread time spent applying batches inside their write transaction (state, journal, views, live queries).",
    "# TYPE calyx_commit_apply_seconds_total counter",
    `calyx_commit_apply_seconds_total ${s.applySeconds.toFixed(6)}`,
    ...histogramLines("calyx_commit_duration_seconds", "A batch, from asking for the write transaction (or, when asked for while the one before committed, from its start) until it is durable (or failed).", s.duration),
    ...histogramLines("calyx_commit_sync_seconds", "The end of a batch, after its writes were applied: LMDB writing its pages and fsyncing them.", s.sync),
  ];
}

export class Metrics {
  readonly #commands = new Map<string, number>();
  readonly #queries = new Map<string, number>();
  readonly #started = Date.now();
  /** List queries over HTTP answered by a worker, and those it declined (answered on the main thread). */
  #offloaded = 0;
  #declined = 0;
  readonly #caches: { name: string; what: string; stats: () => CacheStats }[] = [];
  #commits: (() => CommitStats) | undefined;
  #workers: (() => { serving: number; joining: number }) | undefined;

  /** Reports the committer as calyx_commit*. */
  setCommitter(stats: () => CommitStats): void {
    this.#commits = stats;
  }

  /** Reports the worker threads as calyx_workers{state}. */
  setWorkers(count: () => { serving: number; joining: number }): void {
    this.#workers = count;
  }

  /** Reports a cache as calyx_<name>_cache_* (`what`: what it looks up, for the help text). */
  addCache(name: string, what: string, stats: () => CacheStats): void {
    this.#caches.push({ name, what, stats });
  }

  command(component: string, command: string, outcome: string): void {
    const key = `component="${component}",command="${command}",outcome="${outcome}"`;
    this.#commands.set(key, (this.#commands.get(key) ?? 0) + 1);
  }

  query(view: string, query: string): void {
    const key = `view="${view}",query="${query}"`;
    this.#queries.set(key, (this.#queries.get(key) ?? 0) + 1);
  }

  offload(answered: boolean): void {
    if (answered) this.#offloaded++;
    else this.#declined++;
  }

  render(): string {
    const lines = [
      "# HELP calyx_commands_total Commands handled, by component, command and outcome.",
      "# TYPE calyx_commands_total counter",
      ...[...this.#commands].map(([k, v]) => `calyx_commands_total{${k}} ${v}`),
      "# HELP calyx_queries_total View queries served.",
      "# TYPE calyx_queries_total counter",
      ...[...this.#queries].map(([k, v]) => `calyx_queries_total{${k}} ${v}`),
      "# HELP calyx_queries_in_workers_total HTTP list queries handed to a worker, by who answered.",
      "# TYPE calyx_queries_in_workers_total counter",
      `calyx_queries_in_workers_total{answered="worker"} ${this.#offloaded}`,
      `calyx_queries_in_workers_total{answered="main"} ${this.#declined}`,
      "# HELP calyx_uptime_seconds Seconds since start.",
      "# TYPE calyx_uptime_seconds gauge",
      `calyx_uptime_seconds ${((Date.now() - this.#started) / 1000).toFixed(1)}`,
      "# HELP calyx_heap_used_bytes V8 heap in use (main thread).",
      "# TYPE calyx_heap_used_bytes gauge",
      `calyx_heap_used_bytes ${process.memoryUsage().heapUsed}`,
    ];
    if (this.#workers !== undefined) {
      const w = this.#workers();
      lines.push(
        "# HELP calyx_workers Worker threads running the project: serving (entities are routed to them), joining (loading it, to take a share of the entities; docs/host.md \"Start-up\").",
        "# TYPE calyx_workers gauge",
        `calyx_workers{state="serving"} ${w.serving}`,
        `calyx_workers{state="joining"} ${w.joining}`,
      );
    }
    if (this.#commits !== undefined) lines.push(...commitLines(this.#commits()));
    for (const c of this.#caches) lines.push(...cacheLines(c.name, c.what, c.stats()));
    return lines.join("\n") + "\n";
  }
}
