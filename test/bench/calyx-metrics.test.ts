// The benchmark's reading of Calyx's query cache counters.
import t from "tap";
import { commitSummary, hitShare, parseCacheCounters, parseCommitCounters } from "../../bench/lib/calyx-metrics.js";
import { Metrics } from "../../src/host/metrics.js";
import { LatencyHistogram } from "../../src/storage/histogram.js";

t.test("reads the hit and miss counters, and the share of hits between two readings", async (t) => {
  const text = (hits: number, misses: number): string => [
    "# HELP calyx_query_cache_requests_total HTTP list queries looked up in the query result cache, by outcome.",
    `calyx_query_cache_requests_total{outcome="hit"} ${hits}`,
    `calyx_query_cache_requests_total{outcome="miss"} ${misses}`,
    "calyx_uptime_seconds 3.0",
  ].join("\n");
  t.same(parseCacheCounters(text(5, 7), "query"), { hits: 5, misses: 7 });
  t.equal(parseCacheCounters("calyx_uptime_seconds 3.0\n", "query"), undefined, "cache off: no counters");
  t.equal(hitShare(parseCacheCounters(text(5, 7), "query"), parseCacheCounters(text(95, 17), "query")), 0.9);
  t.equal(hitShare(parseCacheCounters(text(5, 7), "query"), parseCacheCounters(text(5, 7), "query")), undefined, "no lookups in between");
  t.equal(parseCacheCounters(text(5, 7), "reply"), undefined, "the other cache's counters are not these");
  t.equal(hitShare(undefined, parseCacheCounters(text(5, 7), "query")), undefined);
});

t.test("reads the committer's metrics as the server renders them, and summarizes a step", async (t) => {
  const duration = new LatencyHistogram();
  const sync = new LatencyHistogram();
  const stats = { commits: 0, writes: 0, applySeconds: 0 };
  const m = new Metrics();
  m.setCommitter(() => ({ ...stats, failedCommits: 0, pending: 0, duration: duration.snapshot(), sync: sync.snapshot() }));
  t.equal(parseCommitCounters("calyx_uptime_seconds 3.0\n"), undefined, "not Calyx (or an older one)");
  const before = parseCommitCounters(m.render());
  t.match(before, { commits: 0, writes: 0 });
  // 100 batches of 5 writes: 98 took 0.9 ms (0.6 of it syncing), 2 took 30 ms.
  for (let i = 0; i < 100; i++) {
    duration.observeMs(i < 98 ? 0.9 : 30);
    sync.observeMs(i < 98 ? 0.6 : 25);
  }
  Object.assign(stats, { commits: 100, writes: 500, applySeconds: 0.01 });
  const s = commitSummary(before, parseCommitCounters(m.render()), 2_000);
  t.match(s, { commits: 100, perSecond: 50, writesPerCommit: 5, p50Ms: 1, p99Ms: 32, syncP99Ms: 32 });
  t.ok(Math.abs((s?.applyUsPerWrite ?? 0) - 20) < 1e-6, "10 ms over 500 writes: 20 µs each");
  t.equal(commitSummary(before, before, 1_000), undefined, "no commit in between");
  t.equal(commitSummary(undefined, before, 1_000), undefined);
});
