// Loads a project's modules in this thread to describe it (CLI commands such
// as `calyx views explain`); serving always runs user code in workers instead.
import * as calyx from "../api/index.js";
import { discover } from "./discovery.js";
import { ProjectError } from "./errors.js";
import { ModuleLoader, ProjectLoadError } from "./loader.js";
import type { Manifest, ProjectProblem } from "./messages.js";
import { componentFiles } from "./project-files.js";
import { transpilerFor } from "./transpile.js";
import { compileViews, type CompiledViews } from "./runtime.js";

export function inspectProject(projectDir: string): { manifest: Manifest; views: CompiledViews } {
  const loader = new ModuleLoader(projectDir, { calyx }, { transpile: transpilerFor(projectDir) });
  const problems: ProjectProblem[] = [];
  const modules: { file: string; exports: Record<string, unknown> }[] = [];
  for (const file of componentFiles(projectDir)) {
    try {
      modules.push({ file, exports: loader.load(file) });
    } catch (error) {
      if (error instanceof ProjectLoadError) problems.push(error.problem);
      else throw error;
    }
  }
  const found = discover(projectDir, modules);
  problems.push(...found.problems);
  if (problems.length > 0) throw new ProjectError(problems);
  return { manifest: found.manifest, views: compileViews(found.manifest) };
}
