// Facts fixed when the executable is built (esbuild `define`s set by
// scripts/package.mjs and scripts/build.mjs). Each has a fallback for running
// from source, where nothing is defined.

/** One native addon embedded as a SEA asset. */
export interface NativeAsset {
  /** SEA asset key holding the .node file, compressed as `compression` says. */
  readonly asset: string;
  readonly compression: "gzip" | "none";
  /** Hex SHA-256 of the .node file (uncompressed): its name in the cache folder is derived from it. */
  readonly sha256: string;
  /** Size of the .node file, uncompressed. */
  readonly bytes: number;
}

declare const __CALYX_COMMIT__: string | undefined;
declare const __CALYX_NATIVES__: Readonly<Record<string, NativeAsset>> | undefined;
declare const __CALYX_DEP_VERSIONS__: Readonly<Record<string, string>> | undefined;
declare const __CALYX_ASSET_HASHES__: Readonly<Record<string, string>> | undefined;

export const COMMIT: string = typeof __CALYX_COMMIT__ === "string" ? __CALYX_COMMIT__ : "dev";

/** The natives embedded in this executable, by name ("lmdb", "uws"); empty outside it. */
export const NATIVES: Readonly<Record<string, NativeAsset>> = typeof __CALYX_NATIVES__ === "object" ? __CALYX_NATIVES__ : {};

/** Versions of the npm packages bundled in (name → version); empty from source. */
export const DEP_VERSIONS: Readonly<Record<string, string>> = typeof __CALYX_DEP_VERSIONS__ === "object" ? __CALYX_DEP_VERSIONS__ : {};

/** Hex SHA-256 of the JavaScript bundles embedded as assets (asset key → hash); empty from source. */
export const ASSET_HASHES: Readonly<Record<string, string>> = typeof __CALYX_ASSET_HASHES__ === "object" ? __CALYX_ASSET_HASHES__ : {};
