// Finding a project's component modules. Shared by the loader and the dev watcher.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const SOURCE = /\.(ts|mts|js|mjs)$/;
const NOT_COMPONENT = /(\.d\.ts|\.test\.[mc]?[tj]s|\.spec\.[mc]?[tj]s)$/;

/**
 * Module files under `<project>/src`, sorted, as absolute paths. Tests and
 * declarations are skipped. With `among` (a snapshot's paths), no disk is read.
 */
export function componentFiles(projectDir: string, among?: readonly string[]): string[] {
  const root = join(projectDir, "src");
  if (among) return among.filter((p) => SOURCE.test(p) && !NOT_COMPONENT.test(p)).sort();
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (SOURCE.test(name) && !NOT_COMPONENT.test(name)) out.push(path);
    }
  };
  walk(root);
  return out;
}

/** A path for messages: relative to the project, with forward slashes. */
export function displayPath(projectDir: string, file: string): string {
  return relative(projectDir, file).split("\\").join("/");
}

/** Lines around (line, column), both 1-based, with a caret under the column. */
export function codeFrame(source: string, line: number, column: number, context = 2): string {
  const lines = source.split("\n");
  const first = Math.max(1, line - context);
  const last = Math.min(lines.length, line + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    out.push(`${n === line ? ">" : " "} ${String(n).padStart(width)} | ${lines[n - 1] ?? ""}`);
    if (n === line) out.push(`  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, column - 1))}^`);
  }
  return out.join("\n");
}

/** Every file under `<project>/src` (modules, JSON, tests), path → text: one version of the code. */
export function snapshotSources(projectDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs|json)$/.test(name)) out[path] = readFileSync(path, "utf8");
    }
  };
  walk(join(projectDir, "src"));
  return out;
}
