// Counters for /_calyx/metrics, in Prometheus' text format.

export class Metrics {
  readonly #commands = new Map<string, number>();
  readonly #queries = new Map<string, number>();
  readonly #started = Date.now();
  /** List queries over HTTP answered by a worker, and those it declined (answered on the main thread). */
  #offloaded = 0;
  #declined = 0;
  readonly #extra: (() => string)[] = [];

  /** Adds lines (Prometheus text, ending in a newline) to every render. */
  add(render: () => string): void {
    this.#extra.push(render);
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
    return lines.join("\n") + "\n" + this.#extra.map((r) => r()).join("");
  }
}
