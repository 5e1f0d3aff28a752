// `calyx test [dir]`: runs a project's tests (test/**/*.test.ts and
// src/**/*.test.ts) in this process with node:test, resolving `calyx` and
// `calyx/testkit` to this runtime — no test runner to install.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as calyx from "../api/index.js";
import * as testkit from "../api/testkit.js";
import { ModuleLoader, ProjectLoadError } from "../host/loader.js";
import { transpilerFor } from "../host/transpile.js";
import { checkProjectDir, CliError } from "./serve.js";

const TEST_FILE = /\.test\.[mc]?[tj]s$/;

export function testFiles(projectDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (TEST_FILE.test(name)) out.push(path);
    }
  };
  walk(join(projectDir, "test"));
  walk(join(projectDir, "src"));
  return out;
}

export function runProjectTests(dir: string): void {
  const projectDir = checkProjectDir(dir);
  const files = testFiles(projectDir);
  if (files.length === 0) throw new CliError(`no tests found in ${projectDir} (files named *.test.ts under test/ or src/)`);
  process.env["CALYX_PROJECT_DIR"] = projectDir;
  const loader = new ModuleLoader(projectDir, { calyx, "calyx/testkit": testkit }, { transpile: transpilerFor(projectDir) });
  for (const file of files) {
    try {
      loader.load(file);
    } catch (error) {
      if (error instanceof ProjectLoadError) throw new CliError(error.problem.message, error.problem.frame);
      throw error;
    }
  }
  // node:test runs the registered tests once this turn ends, prints results,
  // and sets a failing exit code if any test fails.
}
