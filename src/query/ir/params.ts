// Parameter types, inferred from how the SQL uses each :param (there is no
// schema). The rule, in order:
//   1. A cast declares the type: `:age::int`, `CAST(:age AS INTEGER)`,
//      `:ids::text[]` (int/integer/bigint/smallint -> integer; real/float/
//      double/numeric/decimal -> number; text/varchar/char -> string;
//      bool/boolean -> boolean).
//   2. LIMIT / OFFSET -> integer; LIKE -> string; page_token_offset -> pageToken;
//      `col = ANY(:p)` -> any[] (an array of scalars).
//   3. Anything else (compared with a column, IN lists) -> any: a string,
//      number, boolean or null, used as given. HTTP parameters, which are
//      strings, therefore stay strings unless the SQL casts them.
// A declared type wins over an inferred `any`; two different declared types
// for one name are a load error (ERR_PARAM_CONFLICT).
import type { SqlPosition } from "../errors.js";

export type ScalarParamType = "any" | "string" | "integer" | "number" | "boolean";
export type ParamType = ScalarParamType | `${ScalarParamType}[]` | "pageToken";

export interface ParamInfo {
  readonly name: string;
  readonly type: ParamType;
  /** Page tokens may be absent or "" (first page); every other param is required. */
  readonly optional: boolean;
}

const CASTS: Readonly<Record<string, ScalarParamType>> = {
  INT: "integer",
  INTEGER: "integer",
  INT2: "integer",
  INT4: "integer",
  INT8: "integer",
  BIGINT: "integer",
  SMALLINT: "integer",
  REAL: "number",
  FLOAT: "number",
  FLOAT4: "number",
  FLOAT8: "number",
  DOUBLE: "number",
  "DOUBLE PRECISION": "number",
  NUMERIC: "number",
  DECIMAL: "number",
  TEXT: "string",
  VARCHAR: "string",
  CHAR: "string",
  "CHARACTER VARYING": "string",
  BOOL: "boolean",
  BOOLEAN: "boolean",
};

/** The scalar type a SQL type name casts to, or null when it is not supported. */
export function castType(dataType: string): ScalarParamType | null {
  return CASTS[dataType.toUpperCase()] ?? null;
}

export function isArrayType(t: ParamType): t is `${ScalarParamType}[]` {
  return t.endsWith("[]");
}

export function elementType(t: `${ScalarParamType}[]`): ScalarParamType {
  return t.slice(0, -2) as ScalarParamType;
}

interface Use {
  type: ParamType;
  declared: boolean;
  at: SqlPosition;
}

export type ParamConflict = { readonly name: string; readonly at: SqlPosition; readonly reason: string };

/** Collects the uses of each parameter while the IR is built. */
export class ParamCollector {
  private readonly uses = new Map<string, Use>();

  /** Records a use; returns a conflict description if it contradicts an earlier one. */
  use(name: string, type: ParamType, declared: boolean, at: SqlPosition): ParamConflict | null {
    const prev = this.uses.get(name);
    if (prev === undefined) {
      this.uses.set(name, { type, declared, at });
      return null;
    }
    if (prev.type === type) {
      prev.declared ||= declared;
      return null;
    }
    const compatible = (a: ParamType, b: ParamType): boolean =>
      (a === "any" && !isArrayType(b) && b !== "pageToken") || (a === "any[]" && isArrayType(b));
    if (!prev.declared && compatible(prev.type, type)) {
      this.uses.set(name, { type, declared, at });
      return null;
    }
    if (!declared && compatible(type, prev.type)) return null;
    return {
      name,
      at,
      reason: `parameter :${name} is used as ${type} here but as ${prev.type} at line ${prev.at.line}, column ${prev.at.column}; use one type per parameter (or two parameters)`,
    };
  }

  list(): ParamInfo[] {
    return [...this.uses].map(([name, u]) => Object.freeze({ name, type: u.type, optional: u.type === "pageToken" }));
  }
}
