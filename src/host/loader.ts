// Loads a project's modules, transpiled by transpile.ts (sucrase: types
// stripped, ES imports turned into CommonJS, line numbers kept so stack traces
// point at the user's lines), with a small module system that resolves
// `calyx`, relative imports and the project's own node_modules. Workers get
// the modules already transpiled by the main thread, so they never load
// sucrase. Works the same inside the single executable.
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { compileFunction } from "node:vm";
import { codeFrame, displayPath } from "./project-files.js";
import type { ProjectProblem } from "./messages.js";

/** Thrown when a module cannot be compiled or throws while loading. */
export class ProjectLoadError extends Error {
  readonly problem: ProjectProblem;
  constructor(problem: ProjectProblem) {
    super(problem.message);
    this.name = "ProjectLoadError";
    this.problem = problem;
  }
}

interface CjsModule {
  exports: Record<string, unknown>;
}

export class ModuleLoader {
  readonly #projectDir: string;
  readonly #builtins: Readonly<Record<string, unknown>>;
  readonly #cache = new Map<string, CjsModule>();
  readonly #externalRequire: NodeJS.Require;

  readonly #sources: Readonly<Record<string, string>> | undefined;
  readonly #compiled: Readonly<Record<string, string>> | undefined;
  readonly #transpileFn: ((file: string, source: string) => string) | undefined;

  /**
   * `builtins` maps module names (`calyx`, `calyx/testkit`) to the objects user
   * code receives. `sources` (path → text), when given, is used instead of the
   * disk for files under the project; `compiled` (path → JavaScript) holds them
   * already transpiled; otherwise `transpile` is called (transpile.ts).
   */
  constructor(projectDir: string, builtins: Readonly<Record<string, unknown>>, options: {
    sources?: Readonly<Record<string, string>>;
    compiled?: Readonly<Record<string, string>>;
    transpile?: (file: string, source: string) => string;
  } = {}) {
    this.#projectDir = resolve(projectDir);
    this.#builtins = builtins;
    this.#sources = options.sources;
    this.#compiled = options.compiled;
    this.#transpileFn = options.transpile;
    this.#externalRequire = createRequire(join(this.#projectDir, "package.json"));
  }

  /** Loads (once) and returns a module's exports. */
  load(file: string): Record<string, unknown> {
    const cached = this.#cache.get(file);
    if (cached) return cached.exports;
    const source = this.#read(file);
    const code = this.#transpile(file, source);
    const module: CjsModule = { exports: {} };
    this.#cache.set(file, module);
    let fn: (...args: unknown[]) => void;
    try {
      fn = compileFunction(code, ["exports", "require", "module", "__filename", "__dirname"], { filename: file }) as (...args: unknown[]) => void;
    } catch (error) {
      this.#cache.delete(file);
      throw loadProblem(this.#projectDir, "ERR_MODULE_SYNTAX", file, source, error, undefined);
    }
    try {
      fn(module.exports, (spec: string) => this.#require(file, spec), module, file, dirname(file));
    } catch (error) {
      this.#cache.delete(file);
      if (error instanceof ProjectLoadError) throw error;
      throw loadProblem(this.#projectDir, "ERR_MODULE_THREW", file, source, error, locationInStack(error, file));
    }
    return module.exports;
  }

  #read(file: string): string {
    return this.#sources?.[file] ?? readFileSync(file, "utf8");
  }

  #exists(path: string): boolean {
    if (this.#sources && path in this.#sources) return true;
    return existsSync(path) && statSync(path).isFile();
  }

  #transpile(file: string, source: string): string {
    const compiled = this.#compiled?.[file];
    if (compiled !== undefined) return compiled;
    if (!this.#transpileFn) throw new Error(`no transpiled code for ${file}`);
    return this.#transpileFn(file, source);
  }

  #require(from: string, spec: string): unknown {
    const builtin = this.#builtins[spec];
    if (builtin !== undefined) return builtin;
    if (spec.startsWith(".") || spec.startsWith("/")) {
      const target = resolveLocal(dirname(from), spec, (path) => this.#exists(path));
      if (target === undefined) {
        throw new ProjectLoadError({
          code: "ERR_MODULE_NOT_FOUND", file: displayPath(this.#projectDir, from), line: undefined, column: undefined, frame: undefined,
          message: `${displayPath(this.#projectDir, from)}: cannot find module '${spec}' (looked for .ts, .js and index files)`,
        });
      }
      if (/\.(json)$/.test(target)) return JSON.parse(this.#read(target)) as unknown;
      return this.load(target);
    }
    return this.#externalRequire(spec) as unknown;
  }


}

/** A ProjectLoadError for `file`: "file:line:col: what: why", with a code frame when the position is known. */
export function loadProblem(projectDir: string, code: string, file: string, source: string, error: unknown,
  at: { line: number; column: number } | undefined): ProjectLoadError {
  const shown = displayPath(projectDir, file);
  const reason = error instanceof Error ? error.message : String(error);
  const where = at ? `${shown}:${at.line}:${at.column}` : shown;
  const what = code === "ERR_MODULE_SYNTAX" ? "does not compile" : "threw while loading";
  return new ProjectLoadError({
    code, file: shown, line: at?.line, column: at?.column,
    frame: at ? codeFrame(source, at.line, at.column) : undefined,
    message: `${where}: ${what}: ${reason}`,
  });
}

const EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".json"];

function resolveLocal(dir: string, spec: string, exists: (path: string) => boolean): string | undefined {
  const base = resolve(dir, spec);
  const candidates = [base];
  // TypeScript projects import "./x.js" for "./x.ts".
  if (/\.[mc]?js$/.test(base)) candidates.push(base.replace(/\.([mc]?)js$/, ".$1ts"));
  for (const ext of EXTENSIONS) candidates.push(base + ext);
  for (const ext of EXTENSIONS) candidates.push(join(base, "index" + ext));
  return candidates.find(exists);
}

/** The first stack frame in `file`, as a 1-based position. */
function locationInStack(error: unknown, file: string): { line: number; column: number } | undefined {
  const stack = error instanceof Error ? error.stack ?? "" : "";
  for (const line of stack.split("\n")) {
    const i = line.indexOf(file + ":");
    if (i < 0) continue;
    const m = /^:(\d+):(\d+)/.exec(line.slice(i + file.length));
    if (m) return { line: Number(m[1]), column: Number(m[2]) };
  }
  return undefined;
}
