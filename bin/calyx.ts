#!/usr/bin/env node
// The calyx command line. Each command's work lives in src/cli/; this file
// declares the commands and options and turns failures into one-line errors.
// Commands other than run/dev load their code when they run (start-up time:
// the server does not pay for sucrase, the executable builder and the test
// runner).
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { CliError, serve, type ServeOptions } from "../src/cli/serve.js";
import { QUERY_CACHE_DEFAULT_MB } from "../src/live/limits.js";
import { REPLY_CACHE_DEFAULT_MB } from "../src/host/reply-cache.js";
import { fail, guarded } from "../src/cli/fail.js";
import { viewsCommand } from "../src/cli/views-commands.js";
import { storageCommands } from "../src/cli/storage-commands.js";
import { SeaError } from "../src/sea/errors.js";
import type { LogLevel } from "../src/host/logger.js";
import type { Durability } from "../src/storage/store.js";

interface ServeArgs {
  dir: string;
  port: number;
  host: string;
  data: string | undefined;
  workers: number | undefined;
  durability: string;
  "body-limit": number;
  "handler-timeout": number;
  "log-level": string;
  "log-format": string | undefined;
  transport: string;
  "query-cache-mb": number;
  "reply-cache-mb": number;
}


const serveOptions = (y: ReturnType<typeof yargs>) =>
  y.positional("dir", { type: "string", default: ".", describe: "project folder (holds src/)" })
    .option("port", { type: "number", default: 9000, describe: "HTTP port (0 = any free port)" })
    .option("host", { type: "string", default: "127.0.0.1", describe: "address to listen on (0.0.0.0 for all)" })
    .option("data", { type: "string", describe: "data folder (default: <dir>/.calyx)" })
    .option("workers", { type: "number", describe: "worker threads running your code (default: available cores)" })
    .option("durability", { choices: ["full", "batched", "none"], default: "full", describe: "full: fsync every commit; batched: fsync at most every few ms (may lose the last ms on power loss); none: no fsync (tests)" })
    .option("body-limit", { type: "number", default: 1_048_576, describe: "largest request body in bytes (413 above)" })
    .option("handler-timeout", { type: "number", default: 5_000, describe: "ms a handler may run before its worker is replaced (504)" })
    .option("log-level", { choices: ["debug", "info", "warn", "error"], default: "info" })
    .option("log-format", { choices: ["json", "pretty"], describe: "default: json for run, pretty for dev" })
    .option("query-cache-mb", { type: "number", default: QUERY_CACHE_DEFAULT_MB, describe: "MiB of HTTP list-query answers kept until a commit changes their rows (0: off)" })
    .option("reply-cache-mb", { type: "number", default: REPLY_CACHE_DEFAULT_MB, describe: "MiB of replies of pure commands kept until their entity is written (0: off)" })
    .option("transport", { choices: ["uws", "node"], default: "uws", describe: "HTTP server: uws (uWebSockets.js), or node (node:http: for platforms without a uWS build; no live queries)" });

function toServe(args: ServeArgs, mode: "run" | "dev"): ServeOptions {
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new CliError(`--port must be 0..65535, got ${args.port}`);
  if (!Number.isFinite(args["query-cache-mb"]) || args["query-cache-mb"] < 0) throw new CliError(`--query-cache-mb must be a number ≥ 0, got ${args["query-cache-mb"]}`);
  if (!Number.isFinite(args["reply-cache-mb"]) || args["reply-cache-mb"] < 0) throw new CliError(`--reply-cache-mb must be a number ≥ 0, got ${args["reply-cache-mb"]}`);
  if (args.workers !== undefined && (!Number.isInteger(args.workers) || args.workers < 1)) throw new CliError(`--workers must be a whole number ≥ 1, got ${args.workers}`);
  return {
    dir: args.dir, mode, port: args.port, host: args.host, data: args.data, workers: args.workers,
    durability: args.durability as Durability, bodyLimit: args["body-limit"], handlerTimeout: args["handler-timeout"],
    logLevel: args["log-level"] as LogLevel, logFormat: args["log-format"] as "json" | "pretty" | undefined,
    transport: args.transport === "node" ? "node" : "uws", queryCacheMb: args["query-cache-mb"], replyCacheMb: args["reply-cache-mb"],
  };
}

const argv = hideBin(process.argv);
if (argv[0] === "--version" || argv[0] === "-v") {
  // Calyx's version and commit, and the Node, LMDB and uWS inside.
  import("../src/sea/version-report.js").then(({ versionReport }) => versionReport()).then((report) => process.stdout.write(report + "\n"), fail);
} else {
  cli();
}

/**
 * yargs lays out a command's whole help text (every option, wrapped to the
 * terminal) right after starting its handler, in case the handler fails and
 * the help is shown. Ours never shows it (.fail() below prints one line), and
 * at `run`'s start that layout cost ≈ 15 ms of the main thread. yargs is
 * pinned; if its internals change, this does nothing.
 */
function skipHelpLayout<T extends object>(parser: T): T {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (parser as Internals).getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === "function") usage.cacheHelpMessage = () => undefined;
  return parser;
}

function cli(): void {
// In the single executable, argv is [exe, exe, ...args]; hideBin handles both.
void skipHelpLayout(yargs(argv))
  .scriptName("calyx")
  .usage("$0 <command> [options]")
  .command("run [dir]", "serve a project (production: JSON logs, no watcher)", serveOptions, guarded((args) =>
    serve(toServe(args as unknown as ServeArgs, "run"))))
  .command("dev [dir]", "serve a project for development (readable logs)", serveOptions, guarded((args) =>
    serve(toServe(args as unknown as ServeArgs, "dev"))))
  .command("new <dir>", "create a project: an entity, a view and a test", (y) =>
    y.positional("dir", { type: "string", demandOption: true, describe: "folder to create (must not exist or be empty)" }), async (args) => {
    try {
      const { scaffold } = await import("../src/cli/new-project.js");
      scaffold(String(args.dir));
    } catch (error) {
      fail(error);
    }
  })
  .command("test [dir]", "run a project's tests (test/**/*.test.ts) with node:test", (y) =>
    y.positional("dir", { type: "string", default: ".", describe: "project folder" }), async (args) => {
    try {
      const { runProjectTests } = await import("../src/cli/test-project.js");
      runProjectTests(String(args.dir));
    } catch (error) {
      fail(error);
    }
  })
  .command("build <dir>", "make one executable that serves the project (./my-service run --data DIR)", (y) =>
    y.positional("dir", { type: "string", demandOption: true, describe: "project folder" })
      .option("output", { alias: "o", type: "string", demandOption: true, describe: "executable to write" })
      .option("base", { type: "string", describe: "calyx executable to copy (default: this one)" }), async (args) => {
    try {
      const { buildExecutable } = await import("../src/sea/build-executable.js");
      const r = buildExecutable({ projectDir: String(args.dir), output: String(args.output), base: args.base });
      process.stdout.write(`calyx: built ${r.output} (${r.files} project files, ${(r.outputBytes / 2 ** 20).toFixed(1)} MiB)\n`);
    } catch (error) {
      fail(error instanceof SeaError ? new CliError(error.message) : error);
    }
  })
  .command(storageCommands)
  .command(viewsCommand)
  .demandCommand(1, "name a command (see --help)")
  .strict()
  .version(false)
  .option("version", { alias: "v", type: "boolean", describe: "Show the versions of Calyx, Node, LMDB and uWS" })
  .alias("h", "help")
  .fail((msg, err) => {
    if (err) fail(err);
    process.stderr.write(`calyx: error: ${msg}\nRun 'calyx --help' for usage.\n`);
    process.exit(2);
  })
  .parseAsync()
  .catch(fail);
}
