// Every limit of live queries, named with its unit, in one place. The
// LiveQueries constructor takes overrides (tests, calyx.json later).

export interface LiveLimits {
  /**
   * Change messages a pipeline keeps for resuming subscribers. A client that
   * reconnects further behind than this gets `reset` and a fresh snapshot.
   */
  readonly resumeChangesMax: number;
  /** Bytes of serialized changes a pipeline keeps for resuming (whichever of the two limits is hit first). */
  readonly resumeBytesMax: number;
  /**
   * How long a pipeline with no subscribers is kept (and maintained) so that
   * a client that lost its connection can resume instead of reloading.
   */
  readonly resumeGraceMs: number;
  /** OFFSET + LIMIT rows a live window may hold in memory. */
  readonly windowRowsMax: number;
  /** How often subscriptions waiting for a view build check whether it is done. */
  readonly buildPollMs: number;
}

export const LIVE_DEFAULTS: LiveLimits = {
  resumeChangesMax: 128,
  resumeBytesMax: 16 * 1024,
  resumeGraceMs: 30_000,
  windowRowsMax: 100_000,
  buildPollMs: 100,
};

/** Rows read per snapshot read when an HTTP response streams a query (each chunk is one consistent read). */
export const STREAM_CHUNK_ROWS = 512;

/** The default budget of the query result cache (`--query-cache-mb`, src/live/query-cache.ts). */
export const QUERY_CACHE_DEFAULT_MB = 32;
