// Calyx's version, set at build time (esbuild define); "dev" when run from source.
declare const __CALYX_VERSION__: string | undefined;
export const VERSION: string = typeof __CALYX_VERSION__ === "string" ? __CALYX_VERSION__ : "0.1.0-dev";
