// Starts the worker threads of `calyx run` / `calyx dev` before the CLI is
// even loaded (src/host/worker-start.ts: why). Reads only what decides the
// threads — the command and --workers — and leaves everything else, errors
// included, to the CLI: when the arguments are anything but plain, it starts
// nothing and serve() starts the threads as before.
import { availableParallelism } from "node:os";
import { bootWorkers, WORKER_HEAP_MB_DEFAULT, workersAtStart } from "../host/worker-start.js";

/** How many threads `args` (argv after the script) will serve with, or undefined when that is not plain. */
export function workersFor(args: readonly string[]): number | undefined {
  if (args[0] !== "run" && args[0] !== "dev") return undefined;
  let workers: number | undefined;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--" || arg === "--help" || arg === "-h" || arg === "--version") return undefined;
    let value: string | undefined;
    if (arg === "--workers") value = args[++i];
    else if (arg.startsWith("--workers=")) value = arg.slice("--workers=".length);
    else continue;
    if (workers !== undefined || value === undefined || !/^[1-9][0-9]{0,3}$/.test(value)) return undefined;
    workers = Number(value);
  }
  return workers ?? availableParallelism();
}

/** Starts the threads `args` will start serving with (workersAtStart); true when it did. */
export function bootEarly(args: readonly string[]): boolean {
  const count = workersFor(args);
  if (count === undefined) return false;
  bootWorkers(workersAtStart(count), WORKER_HEAP_MB_DEFAULT);
  return true;
}
