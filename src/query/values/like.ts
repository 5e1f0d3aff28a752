// LIKE in the v1 subset: an exact string, or a prefix followed by one '%'
// ('abc%'). Case-sensitive, by code point (SQLite with case_sensitive_like=ON).
// '_' and inner '%' are rejected: they cannot be served by one index range.
// There is no escape character.

/** Why a pattern is outside the subset, or null when it is fine. */
export function checkLikePattern(p: string): string | null {
  const body = p.endsWith("%") ? p.slice(0, -1) : p;
  if (body.includes("%") || body.includes("_")) {
    return `LIKE pattern '${p}' is not supported: only prefix patterns ('abc%') or exact strings are (no '_', no '%' except one at the end)`;
  }
  return null;
}

export interface LikePattern {
  readonly prefix: string;
  /** True for 'abc' (no trailing %): the value must equal the prefix. */
  readonly exact: boolean;
}

/** Assumes checkLikePattern(p) === null. */
export function parseLikePattern(p: string): LikePattern {
  return p.endsWith("%") ? { prefix: p.slice(0, -1), exact: false } : { prefix: p, exact: true };
}

export function matchesLike(value: string, pattern: LikePattern): boolean {
  return pattern.exact ? value === pattern.prefix : value.startsWith(pattern.prefix);
}
