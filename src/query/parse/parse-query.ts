// SQL text -> SelectNode + parameter list. The only module that knows
// node-sql-parser (PostgreSQL build); everything after works on the IR.
import parserModule from "node-sql-parser/build/postgresql.js";
import type { ParamInfo } from "../ir/params.js";
import type { SelectNode } from "../ir/nodes.js";
import { ConvertContext } from "./context.js";
import { Locator } from "./locator.js";
import { preprocess } from "./preprocess.js";
import { asArray, asNode } from "./raw-ast.js";
import { selectToIr } from "./select-to-ir.js";

const parser = new parserModule.Parser();

export interface ParsedQuery {
  readonly select: SelectNode;
  readonly params: readonly ParamInfo[];
}

export function parseQuery(view: string, query: string, table: string, sql: string): ParsedQuery {
  const ctx = new ConvertContext(view, query, new Locator(sql));
  const pre = preprocess(sql);
  let ast: unknown;
  try {
    ast = parser.astify(pre.sql, { database: "postgresql", parseOptions: { includeLocations: true } });
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
