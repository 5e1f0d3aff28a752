// Checks the parameters of one execution against the types inferred at load
// (ir/params.ts). Missing -> ERR_PARAM_MISSING; wrong type -> ERR_PARAM_TYPE.
// null is accepted for scalar params: it is SQL NULL (it matches nothing).
import { QueryParamError } from "../errors.js";
import type { ParamInfo, ScalarParamType } from "../ir/params.js";
import { elementType, isArrayType } from "../ir/params.js";

export type Params = Readonly<Record<string, unknown>>;

function scalarOk(t: ScalarParamType, v: unknown): boolean {
  if (v === null) return true;
  switch (t) {
    case "any":
      return typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && !Number.isNaN(v));
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isSafeInteger(v);
    case "number":
      return typeof v === "number" && !Number.isNaN(v);
    case "boolean":
      return typeof v === "boolean";
  }
}

export function validateParams(query: string, infos: readonly ParamInfo[], params: Params): void {
  for (const p of infos) {
    const v = params[p.name];
    if (v === undefined) {
      if (p.optional) continue;
      throw new QueryParamError("ERR_PARAM_MISSING", `query "${query}" needs parameter :${p.name} (${p.type})`, p.name);
    }
    let ok: boolean;
    if (p.type === "pageToken") ok = v === null || typeof v === "string";
    else if (isArrayType(p.type)) {
      const el = elementType(p.type);
      ok = Array.isArray(v) && (v as unknown[]).every((x) => scalarOk(el, x));
    } else ok = scalarOk(p.type, v);
    if (!ok) {
      throw new QueryParamError("ERR_PARAM_TYPE", `parameter :${p.name} of query "${query}" must be ${describeType(p.type)}, got ${describeValue(v)}`, p.name);
    }
  }
}

export function describeType(t: string): string {
  if (t === "pageToken") return "a page token (a string from next_page_token(), or empty for the first page)";
  if (t.endsWith("[]")) return `an array of ${describeType(t.slice(0, -2))} values`;
  if (t === "any") return "a string, number, boolean or null";
  return t === "integer" ? "an integer" : `a ${t}`;
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  const s = typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
  return `${typeof v} ${s}`;
}
