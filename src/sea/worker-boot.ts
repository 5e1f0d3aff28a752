// What each worker thread evaluates first (the pool starts workers from a
// string: globalThis.__calyxWorkerSource, set by cli.ts): runs the worker
// bundle (asset worker.cjs, entry src/sea/worker.ts) through code-cache.ts,
// so every worker after the first start skips compiling it.
import { runBundle } from "./code-cache.js";

declare const require: NodeJS.Require;

runBundle("worker.cjs", require);
