// Rewrites the few Kalix/Akka constructs node-sql-parser cannot parse into
// parseable SQL of the SAME LENGTH, so positions reported by the parser still
// point into the user's text:
//   SELECT * AS items, ...            -> SELECT *         , ...   (wrapper noted)
//   OFFSET page_token_offset(:token)  -> OFFSET :__pto_token      (token param noted)
//   OFFSET x LIMIT y                  -> LIMIT y OFFSET x         (the parser drops
//                                        the LIMIT in this order)

export interface Preprocessed {
  readonly sql: string;
  /** Alias of `SELECT * AS <alias>`, if used. */
  readonly starAlias: string | null;
}

export const PAGE_TOKEN_PARAM_PREFIX = "__pto_";

const STAR_AS = /^(\s*SELECT\s+\*)(\s+AS\s+)([A-Za-z_][A-Za-z0-9_]*|"[^"]+")/i;
const TOKEN_OFFSET = /page_token_offset\s*\(\s*:([A-Za-z_][A-Za-z0-9_]*)\s*\)/gi;
const OFFSET_LIMIT = /\bOFFSET(\s+)(\S+)(\s+)LIMIT(\s+)(\S+?)(\s*;?\s*)$/i;

export function preprocess(sql: string): Preprocessed {
  let out = sql;
  let starAlias: string | null = null;
  const m = STAR_AS.exec(out);
  if (m !== null) {
    const [all, head, asPart, alias] = m as unknown as [string, string, string, string];
    starAlias = alias.startsWith('"') ? alias.slice(1, -1) : alias;
    out = head + " ".repeat(asPart.length + alias.length) + out.slice(all.length);
  }
  out = out.replace(TOKEN_OFFSET, (whole: string, name: string) => {
    const replacement = `:${PAGE_TOKEN_PARAM_PREFIX}${name}`;
    return replacement.length <= whole.length ? replacement + " ".repeat(whole.length - replacement.length) : replacement;
  });
  out = out.replace(OFFSET_LIMIT, (whole: string, s1: string, x: string, s2: string, s3: string, y: string, tail: string) => {
    const swapped = `LIMIT${s1}${y}${s2}OFFSET${s3}${x}${tail}`;
    return swapped.length === whole.length ? swapped : whole;
  });
  return { sql: out, starAlias };
}
