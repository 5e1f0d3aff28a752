// The single executable's main script (SEA "main"): kept small, because SEA
// compiles it without a useful code cache. It runs the CLI bundle (asset
// cli.cjs, entry src/sea/cli.ts) through code-cache.ts. `require` here is
// SEA's, which loads Node's built-in modules only — all the bundle needs.
import { runBundle } from "./code-cache.js";

declare const require: NodeJS.Require;

runBundle("cli.cjs", require);
