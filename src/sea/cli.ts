// The entry of the single executable's CLI bundle (asset cli.cjs, run by the
// SEA main script, main.ts, through the code cache). Before handing over to
// the CLI (bin/calyx.ts) it
//   - gives the worker pool the embedded worker script,
//   - unpacks the native addons into the cache folder, so an unwritable cache
//     fails first, in one clear line, rather than deep inside a module load,
//   - answers `--version` (versionReport) and `build` (buildExecutable),
//   - in an executable made by `calyx build`, unpacks the embedded project and
//     points the CLI at it.
import "./require-hook.js";
import { getAsset } from "node:sea";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildExecutable } from "./build-executable.js";
import { findEmbeddedProject, unpackEmbeddedProject } from "./embedded-project.js";
import { SeaError } from "./errors.js";
import { ensureNatives } from "./native-loader.js";
import { versionReport } from "./version-report.js";
import { bootEarly } from "../cli/early-boot.js";
import { startupTrace as trace } from "../cli/startup-trace.js";


/** Commands that take the project folder as their first positional argument. */
const PROJECT_COMMANDS = new Set(["run", "dev", "test"]);

async function main(): Promise<void> {
  trace("main");
  globalThis.__calyxWorkerSource = getAsset("worker-boot.cjs", "utf8");
  // argv is [exe, exe-as-invoked, ...args]; yargs' hideBin drops the first two.
  const args = process.argv.slice(2);
  const embedded = findEmbeddedProject(process.execPath);
  if (args[0] === "--version" || args[0] === "-v") {
    const project = embedded ? `\nproject embedded by calyx build (sha256 ${embedded.trailer.sha256.slice(0, 16)})` : "";
    process.stdout.write(`${await versionReport()}${project}\n`);
    return;
  }
  if (args[0] === "build") {
    build(args.slice(1));
    return;
  }
  ensureNatives();
  trace("natives");
  if (embedded !== undefined) {
    const dir = unpackEmbeddedProject(process.execPath, embedded);
    process.argv.splice(2, args.length, ...embeddedArgs(args, dir));
  }
  // The worker threads of run/dev start booting now (they need the natives unpacked).
  if (bootEarly(process.argv.slice(2))) trace("workers started");
  await import("../../bin/calyx.js");
  trace("cli loaded");
}

/**
 * A built service runs its own project: `./svc` is `calyx run <project>`,
 * `./svc run --port 80` is `calyx run <project> --port 80`. Its data lives in
 * ./.calyx of the current folder unless --data says otherwise (never in the
 * cache folder, which may be wiped).
 */
function embeddedArgs(args: readonly string[], projectDir: string): string[] {
  const first = args[0];
  if (first === undefined || (first.startsWith("-") && first !== "--help" && first !== "-h")) return embeddedArgs(["run", ...args], projectDir);
  if (!PROJECT_COMMANDS.has(first)) return [...args];
  const rest = args.slice(1);
  const hasData = rest.some((a) => a === "--data" || a.startsWith("--data="));
  return [first, projectDir, ...rest, ...(hasData || first === "test" ? [] : ["--data", join(process.cwd(), ".calyx")])];
}

/** `calyx build <project> -o <file> [--base <calyx executable>]` (until bin/calyx.ts declares it). */
function build(args: string[]): void {
  const usage = "usage: calyx build <project folder> -o <output file> [--base <calyx executable>]";
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { output: { type: "string", short: "o" }, base: { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    throw new SeaError("ERR_BUILD", `${(error as Error).message}\n${usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n\nWrites one executable that serves the project: ./<output> run --data <folder>\n`);
    return;
  }
  const projectDir = parsed.positionals[0];
  const output = parsed.values.output;
  if (projectDir === undefined || output === undefined || parsed.positionals.length > 1) throw new SeaError("ERR_BUILD", usage);
  const result = buildExecutable({ projectDir, output, base: parsed.values.base });
  process.stdout.write(`calyx: built ${result.output} (${result.files} project files, ${(result.outputBytes / 1e6).toFixed(1)} MB); run it with: ${result.output} run --data <folder>\n`);
}

main().catch((error: unknown) => {
  if (error instanceof SeaError) {
    process.stderr.write(`calyx: error: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`calyx: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
