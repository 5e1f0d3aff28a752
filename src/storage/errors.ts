// Operating errors of the storage layer. Callers branch on `code`, never on the
// message; src/http alone maps codes to HTTP statuses (e.g. ERR_BACKPRESSURE ->
// 503 + Retry-After, ERR_DISK_FULL -> 507). Programmer errors are plain
// assertions (AssertionError), not StorageErrors.

/** Stable error codes. Adding a code is fine; renaming one breaks callers. */
export type StorageErrorCode =
  /** A key part was NaN, which has no place in a total order. Bad input. */
  | "ERR_KEY_NAN"
  /** A key part was not null, boolean, number or string. Bad input. */
  | "ERR_KEY_TYPE"
  /** A string key part held a lone UTF-16 surrogate, which has no UTF-8 form. Bad input. */
  | "ERR_KEY_INVALID_STRING"
  /** The encoded key exceeds MAX_KEY_BYTES (LMDB's key-size limit). Bad input. */
  | "ERR_KEY_TOO_LARGE"
  /** The file system is full (ENOSPC) or the LMDB map could not grow. Retry after freeing space. */
  | "ERR_DISK_FULL"
  /** The data folder was written by another storage format version. Terminal until migrated. */
  | "ERR_FORMAT_VERSION"
  /** The data folder cannot be opened (missing, not a Calyx store, permissions). */
  | "ERR_OPEN_FAILED"
  /** The stored entity sequence differs from the write's baseSeq: two writers for one entity. */
  | "ERR_WRITER_CONFLICT"
  /** The committer's queue is full. Retryable after `retryAfterMs`. */
  | "ERR_BACKPRESSURE"
  /** The store or committer is closed / stopping. */
  | "ERR_STORE_CLOSED"
  /** The write transaction failed for a reason other than disk space. The whole batch failed. */
  | "ERR_COMMIT_FAILED"
  /** A CommitHook threw while applying this write; the write was rolled back. */
  | "ERR_HOOK_FAILED"
  /** A value of this write cannot be stored (not serializable); the write was rolled back. */
  | "ERR_WRITE_INVALID"
  /** A restore/import target is not empty, or an input file is malformed. */
  | "ERR_RESTORE_TARGET"
  | "ERR_IMPORT_FORMAT"
  /** Stored data contradicts itself (e.g. an entity's history chain points at another entity's record). */
  | "ERR_CORRUPT";

/** Codes a caller may retry as-is (after waiting `retryAfterMs` when set). */
const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set(["ERR_BACKPRESSURE", "ERR_DISK_FULL", "ERR_COMMIT_FAILED"]);

export interface StorageErrorOptions {
  readonly cause?: unknown;
  /** For ERR_BACKPRESSURE: how long the caller should wait before retrying. */
  readonly retryAfterMs?: number;
}

export class StorageError extends Error {
  override readonly name = "StorageError";
  readonly code: StorageErrorCode;
  override readonly cause: unknown;
  /** Set for ERR_BACKPRESSURE (and possibly others): suggested wait before a retry. */
  readonly retryAfterMs: number | undefined;

  constructor(code: StorageErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(message);
    this.code = code;
    this.cause = options.cause;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** True when retrying the same operation later can succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/**
 * Classifies a low-level failure (lmdb-js error, Node fs error) as disk-full.
 * LMDB reports ENOSPC as errno 28, MDB_MAP_FULL as -30792; lmdb-js resizes the
 * map itself, so MAP_FULL reaching us means the file could not grow either.
 */
export function isDiskFullError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const err = e as Error & { code?: unknown; errno?: unknown };
  if (err.code === "ENOSPC" || err.code === "MDB_MAP_FULL" || err.code === "EDQUOT") return true;
  if (err.errno === 28 || err.errno === -28 || err.errno === -30792) return true;
  return /ENOSPC|No space left|MDB_MAP_FULL|MAP_FULL|Disk quota/i.test(err.message);
}
