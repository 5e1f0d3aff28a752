// Compiles the views of a manifest (the main thread for its queries and view
// maintenance; workers for the queries they answer, see worker-queries.ts).
import { compileView, type CompiledView } from "../query/compile-view.js";
import { ProjectError } from "./errors.js";
import type { Manifest, ProjectProblem } from "./messages.js";

export interface CompiledViews {
  readonly byTable: Map<string, CompiledView>;
  readonly byName: Map<string, CompiledView>;
}

/** Compiles every view's SQL; throws a ProjectError naming each view's file. */
export function compileViews(manifest: Manifest): CompiledViews {
  const byTable = new Map<string, CompiledView>();
  const byName = new Map<string, CompiledView>();
  const problems: ProjectProblem[] = [];
  for (const v of manifest.views) {
    try {
      const compiled = compileView({
        name: v.name, table: v.table,
        queries: Object.fromEntries(v.queries.map((q) => [q.name, {
          sql: q.sql, ...(q.http ? { http: q.http } : {}), ...(q.maxRows ? { maxRows: q.maxRows } : {}), ...(q.result ? { result: q.result } : {}),
        }])),
      });
      byTable.set(v.table, compiled);
      byName.set(v.name, compiled);
    } catch (error) {
      const e = error as { message?: string; position?: { line: number; column: number } };
      problems.push({ code: "ERR_VIEW_SQL", file: v.file, line: e.position?.line, column: e.position?.column, frame: undefined,
        message: `${v.file}: ${e.message ?? String(error)}` });
    }
  }
  if (problems.length > 0) throw new ProjectError(problems);
  return { byTable, byName };
}

