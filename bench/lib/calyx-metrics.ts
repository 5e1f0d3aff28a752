// Calyx's caches (the query result cache, the reply cache of pure commands),
// read from /_calyx/metrics around a step, so a result says how many of its
// requests a cache answered.

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
