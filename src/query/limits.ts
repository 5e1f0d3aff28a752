// Every limit of the query layer, named with its unit, in one place.

/** Rows a query may return before failing with ERR_TOO_MANY_ROWS (per query: `maxRows`). */
export const DEFAULT_QUERY_ROWS_MAX = 10_000;

/** Rows an in-memory top-k sort may read before failing (an ORDER BY no index serves). */
export const SORT_SCAN_ROWS_MAX = 100_000;

/** Rows COUNT(*) / total_count() may read before failing. */
export const COUNT_SCAN_ROWS_MAX = 1_000_000;

/** Index ranges one execution may open (product of IN lists and ANY arrays). */
export const SCAN_RANGES_MAX = 1_000;

/**
 * UTF-8 bytes of one string in an index key. Longer strings are truncated in
 * the key (never in the row): filters re-check the row, and such strings are
 * ordered by their first bytes, then by primary key.
 */
export const INDEX_STRING_BYTES_MAX = 400;
