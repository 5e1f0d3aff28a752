// Calyx's caches (the query result cache, the reply cache of pure commands),
// read from /_calyx/metrics around a step, so a result says how many of its
// requests a cache answered.
import { num } from "./stats.js";

export interface CacheCounters {
  readonly hits: number;
  readonly misses: number;
}

export type CacheName = "query" | "reply";

/** A cache's counters now, or undefined (not Calyx, cache off, or no answer). */
export async function cacheCounters(host: string, port: number, cache: CacheName): Promise<CacheCounters | undefined> {
  try {
    const text = await (await fetch(`http://${host}:${port}/_calyx/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    return parseCacheCounters(text, cache);
  } catch {
    return undefined;
  }
}

export function parseCacheCounters(text: string, cache: CacheName): CacheCounters | undefined {
  const hits = new RegExp(`^calyx_${cache}_cache_requests_total\\{outcome="hit"\\} (\\d+)$`, "m").exec(text);
  const misses = new RegExp(`^calyx_${cache}_cache_requests_total\\{outcome="miss"\\} (\\d+)$`, "m").exec(text);
  if (hits === null || misses === null) return undefined;
  return { hits: Number(hits[1]), misses: Number(misses[1]) };
}

/** Share of the lookups between two readings that were hits (undefined: no lookups, or not measured). */
export function hitShare(before: CacheCounters | undefined, after: CacheCounters | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  const hits = after.hits - before.hits;
  const total = hits + after.misses - before.misses;
  return total > 0 ? hits / total : undefined;
}

// Calyx's committer (calyx_commit* in /_calyx/metrics): how many batches a
// step made, how big they were and how long they took — the disk's part of a
// write's latency, measured by the server itself.

export interface CommitCounters {
  readonly commits: number;
  readonly writes: number;
  readonly applySeconds: number;
  /** Upper bounds (s) of the histogram's buckets, +Inf last. */
  readonly bounds: readonly number[];
  /** Cumulative counts per bound, as exposed. */
  readonly duration: readonly number[];
  readonly sync: readonly number[];
}

export interface CommitSummary {
  readonly commits: number;
  readonly perSecond: number;
  readonly writesPerCommit: number;
  /** Quantiles of a batch's time, as the upper bound of the bucket holding them (ms; Infinity above the last bound). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly syncP99Ms: number;
  /** Main-thread time applying a write inside its batch's transaction (µs). */
  readonly applyUsPerWrite: number;
}

export async function commitCounters(host: string, port: number): Promise<CommitCounters | undefined> {
  try {
    return parseCommitCounters(await (await fetch(`http://${host}:${port}/_calyx/metrics`, { signal: AbortSignal.timeout(5_000) })).text());
  } catch {
    return undefined;
  }
}

export function parseCommitCounters(text: string): CommitCounters | undefined {
  const one = (name: string): number | undefined => {
    const m = new RegExp(`^${name} ([\\d.e+-]+)$`, "m").exec(text);
    return m === null ? undefined : Number(m[1]);
  };
  const buckets = (name: string): Array<[number, number]> =>
    [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, "gm"))].map((m) => [m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2])]);
  const commits = one('calyx_commits_total\\{outcome="ok"\\}');
  const writes = one("calyx_commit_writes_total");
  const applySeconds = one("calyx_commit_apply_seconds_total");
  const duration = buckets("calyx_commit_duration_seconds");
  const sync = buckets("calyx_commit_sync_seconds");
  if (commits === undefined || writes === undefined || applySeconds === undefined || duration.length === 0 || sync.length !== duration.length) return undefined;
  return { commits, writes, applySeconds, bounds: duration.map(([b]) => b), duration: duration.map(([, n]) => n), sync: sync.map(([, n]) => n) };
}

/** The upper bound (ms) of the bucket holding quantile q of the observations between two cumulative readings. */
function quantileMs(bounds: readonly number[], before: readonly number[], after: readonly number[], q: number): number {
  const total = (after[after.length - 1] ?? 0) - (before[before.length - 1] ?? 0);
  if (total <= 0) return NaN;
  for (let i = 0; i < bounds.length; i++) {
    if ((after[i] ?? 0) - (before[i] ?? 0) >= q * total) return (bounds[i] as number) * 1000;
  }
  return Infinity;
}

/** What the committer did between two readings `elapsedMs` apart (undefined: not measured, or no commit). */
export function commitSummary(before: CommitCounters | undefined, after: CommitCounters | undefined, elapsedMs: number): CommitSummary | undefined {
  if (before === undefined || after === undefined) return undefined;
  const commits = after.commits - before.commits;
  const writes = after.writes - before.writes;
  if (commits <= 0) return undefined;
  return {
    commits, perSecond: (commits * 1000) / elapsedMs, writesPerCommit: writes / commits,
    p50Ms: quantileMs(after.bounds, before.duration, after.duration, 0.5),
    p99Ms: quantileMs(after.bounds, before.duration, after.duration, 0.99),
    syncP99Ms: quantileMs(after.bounds, before.sync, after.sync, 0.99),
    applyUsPerWrite: writes > 0 ? ((after.applySeconds - before.applySeconds) * 1e6) / writes : NaN,
  };
}

/** A quantile from the histogram: "≤ bound" (its bucket's upper bound), or above the last bound. */
export const upTo = (ms: number): string => (Number.isFinite(ms) ? `≤ ${num(ms)}` : "> 1,024");

export function commitLine(c: CommitSummary): string {
  return `commits ${num(c.perSecond)}/s of ${num(c.writesPerCommit)} writes, p50 ${upTo(c.p50Ms)} p99 ${upTo(c.p99Ms)} ms (sync p99 ${upTo(c.syncP99Ms)}), apply ${num(c.applyUsPerWrite)} µs/write`;
}
