// The benchmark's reading of Calyx's query cache counters.
import t from "tap";
import { hitShare, parseCacheCounters } from "../../bench/lib/calyx-metrics.js";

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
