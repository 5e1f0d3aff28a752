// The entry of a worker thread under `node build/calyx.cjs` (build/worker.cjs):
// the worker bundle (build/worker-main.cjs, from worker-main.ts) and the npm
// packages it loads are compiled through the code cache, like the main
// thread's (src/cli/compile-cache.ts).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { installCompileCache } from "../cli/compile-cache.js";
import { startupTrace } from "../cli/startup-trace.js";
import { LIBC_SET_BY_CALYX } from "./worker-start.js";

const here = fileURLToPath(import.meta.url);
startupTrace(`worker ${threadId} entry`);
installCompileCache(dirname(here));
createRequire(here)(join(dirname(here), "worker-main.cjs"));
// lmdb-js has read the C library hint (src/host/worker-start.ts); the project's code must not see it.
if (process.env[LIBC_SET_BY_CALYX] === "1") {
  delete process.env["LIBC"];
  delete process.env[LIBC_SET_BY_CALYX];
}
startupTrace(`worker ${threadId} bundle loaded`);
