// /_calyx/metrics in Prometheus' text format: the committer's counters and
// histograms (cumulative buckets, +Inf = count), with the histogram that
// records them (src/storage/histogram.ts).
import t from "tap";
import { Metrics } from "../../src/host/metrics.js";
import { LATENCY_BOUNDS_S, LatencyHistogram } from "../../src/storage/histogram.js";

t.test("the latency histogram files each duration under the first bound it does not exceed", async (t) => {
  const h = new LatencyHistogram();
  for (const ms of [0.1, 0.25, 0.26, 3, 5_000]) h.observeMs(ms);
  const s = h.snapshot();
  t.equal(s.count, 5);
  t.equal(s.counts[0], 2, "0.1 and 0.25 ms: ≤ 0.25 ms");
  t.equal(s.counts[1], 1, "0.26 ms: ≤ 0.5 ms");
  t.equal(s.counts[LATENCY_BOUNDS_S.indexOf(0.004)], 1, "3 ms: ≤ 4 ms");
  t.equal(s.counts[LATENCY_BOUNDS_S.length], 1, "5 s: above every bound");
  t.ok(Math.abs(s.sum - 5.00361) < 1e-9);
});

t.test("the committer's metrics render as Prometheus counters, a gauge and histograms", async (t) => {
  const m = new Metrics();
  t.notMatch(m.render(), /calyx_commit/, "nothing before a committer is set");
  const duration = new LatencyHistogram();
  const sync = new LatencyHistogram();
  for (const ms of [0.3, 0.9, 1.5, 20]) duration.observeMs(ms);
  for (const ms of [0.2, 0.5, 1.0, 15]) sync.observeMs(ms);
  m.setCommitter(() => ({ commits: 3, failedCommits: 1, writes: 40, pending: 7, applySeconds: 0.0021, duration: duration.snapshot(), sync: sync.snapshot() }));
  const text = m.render();
  t.match(text, /^calyx_commits_total\{outcome="ok"\} 3$/m);
  t.match(text, /^calyx_commits_total\{outcome="failed"\} 1$/m);
  t.match(text, /^calyx_commit_writes_total 40$/m);
  t.match(text, /^calyx_commit_queue_writes 7$/m);
  t.match(text, /^calyx_commit_apply_seconds_total 0\.002100$/m);
  t.match(text, /^# TYPE calyx_commit_duration_seconds histogram$/m);
  const buckets = [...text.matchAll(/^calyx_commit_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((x) => [x[1], Number(x[2])] as const);
  t.equal(buckets.length, LATENCY_BOUNDS_S.length + 1);
  t.same(buckets.slice(0, 4), [["0.00025", 0], ["0.0005", 1], ["0.001", 2], ["0.002", 3]], "cumulative");
  t.same(buckets[buckets.length - 1], ["+Inf", 4]);
  t.ok(buckets.every(([, n], i) => i === 0 || n >= (buckets[i - 1]?.[1] ?? 0)), "never decreasing");
  t.match(text, /^calyx_commit_duration_seconds_count 4$/m);
  t.match(text, /^calyx_commit_duration_seconds_sum 0\.022700$/m);
  t.match(text, /^calyx_commit_sync_seconds_bucket\{le="0\.00025"\} 1$/m);
  for (const line of text.trim().split("\n")) t.match(line, /^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{[^}]*\})? [\d.e+-]+)$/, "a valid exposition line");
});
