#!/usr/bin/env node
// The entry of `node build/calyx.cjs` (the CLI from npm or this repository;
// the single executable has its own, src/sea/main.ts). Kept small: before the
// CLI bundle (build/cli.cjs, from bin/calyx.ts) is even compiled, it
//   - starts the worker threads of `run` / `dev` (src/cli/early-boot.ts), so
//     their boot overlaps loading the CLI, the runtime and the data folder;
//   - compiles the CLI bundle and the npm packages it loads through a
//     V8 code cache (src/cli/compile-cache.ts).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { installCompileCache } from "./compile-cache.js";
import { bootEarly } from "./early-boot.js";
import { startupTrace } from "./startup-trace.js";

const here = fileURLToPath(import.meta.url);
startupTrace("entry");
if (bootEarly(process.argv.slice(2))) startupTrace("workers started");
installCompileCache(dirname(here));
createRequire(here)(join(dirname(here), "cli.cjs"));
startupTrace("cli loaded");
