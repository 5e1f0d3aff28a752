// Loads a project's modules in this thread to describe it (CLI commands such
// as `calyx views explain`); serving always runs user code in workers instead.
import * as calyx from "../api/index.js";
import { loadAndDiscover } from "./discovery.js";
import { ProjectError } from "./errors.js";
import { ModuleLoader } from "./loader.js";
import type { Manifest } from "./messages.js";
import { componentFiles } from "./project-files.js";
import { transpilerFor } from "./transpile.js";
import { compileViews, type CompiledViews } from "./runtime.js";

export function inspectProject(projectDir: string): { manifest: Manifest; views: CompiledViews } {
  const loader = new ModuleLoader(projectDir, { calyx }, { transpile: transpilerFor(projectDir) });
  const found = loadAndDiscover(projectDir, componentFiles(projectDir), (file) => loader.load(file));
  if (found.problems.length > 0) throw new ProjectError(found.problems);
  return { manifest: found.manifest, views: compileViews(found.manifest) };
}
