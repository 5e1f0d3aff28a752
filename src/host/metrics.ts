// Counters for /_calyx/metrics, in Prometheus' text format.

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

export class Metrics {
  readonly #commands = new Map<string, number>();
  readonly #queries = new Map<string, number>();
  readonly #started = Date.now();
  /** List queries over HTTP answered by a worker, and those it declined (answered on the main thread). */
  #offloaded = 0;
  #declined = 0;
  readonly #caches: { name: string; what: string; stats: () => CacheStats }[] = [];

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
    for (const c of this.#caches) lines.push(...cacheLines(c.name, c.what, c.stats()));
    return lines.join("\n") + "\n";
  }
}
