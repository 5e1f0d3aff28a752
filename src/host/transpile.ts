// TypeScript → CommonJS for user modules, with sucrase: types stripped, ES
// imports turned into require(), line numbers kept. Runs in the main thread
// (once per load or reload); workers receive the result.
import { transform } from "sucrase";
import { loadProblem, type ProjectLoadError } from "./loader.js";
import type { ProjectProblem } from "./messages.js";

/** Transpiles one module; throws a ProjectLoadError with file:line:column and a code frame. */
export function transpileModule(projectDir: string, file: string, source: string): string {
  if (file.endsWith(".json")) return source;
  try {
    return transform(source, { transforms: ["typescript", "imports"], filePath: file, production: true }).code;
  } catch (error) {
    const loc = (error as { loc?: { line: number; column: number } }).loc;
    const at = loc ? { line: loc.line, column: loc.column } : undefined; // sucrase columns are 1-based
    const message = error instanceof Error ? error.message.replace(/^Error transforming [^:]+: /, "").replace(/ \(\d+:\d+\)$/, "") : String(error);
    throw loadProblem(projectDir, "ERR_MODULE_SYNTAX", file, source, new Error(message), at);
  }
}

/** Transpiles every module of a snapshot; problems are collected, one per broken file. */
export function transpileAll(projectDir: string, sources: Readonly<Record<string, string>>): { compiled: Record<string, string>; problems: ProjectProblem[] } {
  const compiled: Record<string, string> = {};
  const problems: ProjectProblem[] = [];
  for (const [file, source] of Object.entries(sources)) {
    try {
      compiled[file] = transpileModule(projectDir, file, source);
    } catch (error) {
      const problem = (error as Partial<ProjectLoadError>).problem;
      if (problem) problems.push(problem);
      else throw error;
    }
  }
  return { compiled, problems };
}

/** A transpile function for ModuleLoader, for modules loaded in this thread. */
export function transpilerFor(projectDir: string): (file: string, source: string) => string {
  return (file, source) => transpileModule(projectDir, file, source);
}
