// HTTP parameters arrive as strings; this converts them with the types the
// SQL implies (ir/params.ts). Untyped (`any`) and string params stay strings;
// integer/number/boolean params are parsed; arrays accept a JSON array
// ("[1,2]") or a comma-separated list ("a,b"; "" is the empty list).
// Unknown keys are ignored; missing params stay missing (execute reports them).
import { QueryParamError } from "./errors.js";
import type { ParamType, ScalarParamType } from "./ir/params.js";
import { elementType, isArrayType } from "./ir/params.js";
import { describeType } from "./exec/params.js";
import type { CompiledQuery } from "./types.js";

function scalar(name: string, t: ScalarParamType, s: string): unknown {
  const bad = (): never => {
    throw new QueryParamError("ERR_PARAM_TYPE", `parameter :${name} must be ${describeType(t)}, got ${JSON.stringify(s)}`, name);
  };
  switch (t) {
    case "any":
    case "string":
      return s;
    case "integer": {
      if (!/^[+-]?\d+$/.test(s.trim())) return bad();
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : bad();
    }
    case "number": {
      const n = s.trim() === "" ? NaN : Number(s);
      return Number.isFinite(n) ? n : bad();
    }
    case "boolean": {
      const l = s.trim().toLowerCase();
      if (l === "true" || l === "1") return true;
      if (l === "false" || l === "0") return false;
      return bad();
    }
  }
}

function convert(name: string, t: ParamType, s: string): unknown {
  if (t === "pageToken") return s;
  if (!isArrayType(t)) return scalar(name, t, s);
  const el = elementType(t);
  if (s.trim().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      throw new QueryParamError("ERR_PARAM_TYPE", `parameter :${name} is not a valid JSON array`, name);
    }
    if (!Array.isArray(parsed)) throw new QueryParamError("ERR_PARAM_TYPE", `parameter :${name} must be an array`, name);
    return (parsed as unknown[]).map((x) => (typeof x === "string" && el !== "any" && el !== "string" ? scalar(name, el, x) : x));
  }
  return s === "" ? [] : s.split(",").map((x) => scalar(name, el, x));
}

export function coerceParams(query: Pick<CompiledQuery, "params">, raw: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of query.params) {
    const s = raw[p.name];
    if (s !== undefined) out[p.name] = convert(p.name, p.type, s);
  }
  return out;
}
