// Parameters of a live or one-shot query arriving as JSON (WebSocket, client
// library). JSON already carries numbers and booleans; a string given for a
// typed parameter (integer, number, boolean, arrays) is converted the way an
// HTTP parameter is (the query's own coerceParams). Unknown keys are dropped,
// so two subscriptions that differ only in them share one pipeline.
import type { CompiledQuery } from "../query/types.js";

export type Params = Readonly<Record<string, unknown>>;

export function normalizeParams(query: CompiledQuery, given: Params): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of query.params) {
    const v = given[p.name];
    if (v === undefined) continue;
    if (typeof v === "string" && p.type !== "any" && p.type !== "string" && p.type !== "pageToken") {
      Object.assign(out, query.coerceParams({ [p.name]: v }));
    } else out[p.name] = v;
  }
  return out;
}

/** One string per distinct (query, parameter values): subscriptions with equal keys share a pipeline. */
export function pipelineKey(view: string, query: CompiledQuery, params: Params): string {
  return JSON.stringify([view, query.name, query.params.map((p) => params[p.name] ?? null)]);
}
