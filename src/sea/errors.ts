// Failures of the single executable's own machinery (cache folder, embedded
// natives, embedded project). Each has a stable `code` and says what to do.

export type SeaErrorCode =
  /** The cache folder cannot be created or written: set CALYX_CACHE_DIR. */
  | "ERR_CACHE_NOT_WRITABLE"
  /** The executable lacks an asset it was built with: rebuild it. */
  | "ERR_ASSET_MISSING"
  /** A native addon was written but does not load on this machine. */
  | "ERR_NATIVE_LOAD"
  /** The project embedded by `calyx build` is damaged. */
  | "ERR_EMBEDDED_PROJECT"
  /** `calyx build` cannot make an executable (bad project, no base executable…). */
  | "ERR_BUILD";

export class SeaError extends Error {
  readonly code: SeaErrorCode;
  constructor(code: SeaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SeaError";
    this.code = code;
  }
}
