// SQL text -> SelectNode + parameter list. The only module that knows
// node-sql-parser (PostgreSQL build); everything after works on the IR.
// Parses are kept per (table, SQL text) for the life of the process, and the
// host seeds them from the view SQL cache of the last start
// (src/host/view-sql-cache.ts): a start whose view queries did not change
// never loads node-sql-parser (≈ 300 kB of generated parser).
import { createRequire } from "node:module";
import type ParserModule from "node-sql-parser/build/postgresql.js";
import type { ParamInfo } from "../ir/params.js";
import type { SelectNode } from "../ir/nodes.js";
import { ConvertContext } from "./context.js";
import { Locator } from "./locator.js";
import { preprocess } from "./preprocess.js";
import { asArray, asNode } from "./raw-ast.js";
import { selectToIr } from "./select-to-ir.js";

type Parser = InstanceType<typeof ParserModule.Parser>;
let parser: Parser | undefined;

/** node-sql-parser, loaded by the first parse that is not known already. */
function sqlParser(): Parser {
  if (parser === undefined) {
    // In the bundles this require is esbuild's (external in build/cli.cjs,
    // bundled in the executable); from source (ESM) there is none.
    const mod = (typeof require === "function"
      ? require("node-sql-parser/build/postgresql.js")
      : createRequire(import.meta.url)("node-sql-parser/build/postgresql.js")) as typeof ParserModule;
    parser = new mod.Parser();
  }
  return parser;
}

export interface ParsedQuery {
  readonly select: SelectNode;
  readonly params: readonly ParamInfo[];
}

/** Parses by table and SQL text (the view and query names only name errors, which are not kept). */
const known = new Map<string, ParsedQuery>();

function knownKey(table: string, sql: string): string {
  return `${table}\u0000${sql}`;
}

/** The parse of `sql` over `table` if this process has it (parsed, or seeded by rememberParse). */
export function knownParse(table: string, sql: string): ParsedQuery | undefined {
  return known.get(knownKey(table, sql));
}

/** Takes a parse made by this build of Calyx on an earlier start (the view SQL cache). */
export function rememberParse(table: string, sql: string, parsed: ParsedQuery): void {
  known.set(knownKey(table, sql), parsed);
}

/** Forgets every kept parse (tests: to compare a fresh parse with a cached one). */
export function forgetParses(): void {
  known.clear();
}

export function parseQuery(view: string, query: string, table: string, sql: string): ParsedQuery {
  const key = knownKey(table, sql);
  const hit = known.get(key);
  if (hit !== undefined) return hit;
  const parsed = parseFresh(view, query, table, sql);
  known.set(key, parsed);
  return parsed;
}

function parseFresh(view: string, query: string, table: string, sql: string): ParsedQuery {
  const ctx = new ConvertContext(view, query, new Locator(sql));
  const pre = preprocess(sql);
  let ast: unknown;
  try {
    ast = sqlParser().astify(pre.sql, { database: "postgresql", parseOptions: { includeLocations: true } });
  } catch (e) {
    const start = asNode(asNode(asNode(e)?.["location"])?.["start"]);
    const offset = typeof start?.["offset"] === "number" ? start["offset"] : 0;
    const found = pre.sql.slice(offset, offset + 20).split(/\s/)[0] ?? "";
    return ctx.fail("ERR_SQL_SYNTAX", ctx.locator.at(offset), `SQL syntax error near "${found}"`);
  }
  const statements = Array.isArray(ast) ? asArray(ast) : [ast];
  if (statements.length !== 1) return ctx.unsupported(ctx.locator.find(/;\s*\S/), "one SQL statement per query");
  const stmt = asNode(statements[0]);
  if (stmt === null) return ctx.fail("ERR_SQL_SYNTAX", { line: 1, column: 1 }, "empty query");
  const select = selectToIr(ctx, stmt, table, pre.starAlias);
  return { select, params: Object.freeze(ctx.params.list()) };
}
