// SELECT statement: node-sql-parser AST -> SelectNode (ir/nodes.ts).
import type { SqlPosition } from "../errors.js";
import type { CountExpr, OffsetNode, OrderTerm, OutputColumn, PageWrapper, Projection, SelectNode } from "../ir/nodes.js";
import { literal, param } from "../ir/nodes.js";
import type { ConvertContext } from "./context.js";
import { columnPath, predicateToIr, valueToIr } from "./expr-to-ir.js";
import { PAGE_TOKEN_PARAM_PREFIX } from "./preprocess.js";
import type { RawNode } from "./raw-ast.js";
import { asArray, asNode, child, functionArgs, functionName, str } from "./raw-ast.js";

const START: SqlPosition = { line: 1, column: 1 };

export function selectToIr(ctx: ConvertContext, ast: RawNode, table: string, starAlias: string | null): SelectNode {
  const loc = ctx.locator;
  if (str(ast, "type") !== "select") {
    return ctx.unsupported(START, `only SELECT is supported in a view query, not ${str(ast, "type")?.toUpperCase() ?? "this statement"}`);
  }
  if (ast["with"] !== null && ast["with"] !== undefined) return ctx.unsupported(loc.findWord("WITH"), "WITH (common table expressions) is not supported");
  if (str(child(ast, "distinct"), "type") !== null) return ctx.unsupported(loc.findWord("DISTINCT"), "DISTINCT is not supported yet (planned for v2)");
  if (ast["groupby"] !== null && ast["groupby"] !== undefined) {
    return ctx.unsupported(loc.find(/\bGROUP\s+BY\b/), "GROUP BY is not supported yet (planned for v2); use COUNT(*) with a WHERE clause per group");
  }
  if (ast["having"] !== null && ast["having"] !== undefined) return ctx.unsupported(loc.findWord("HAVING"), "HAVING is not supported yet (planned for v2)");
  if (ast["_next"] !== undefined && ast["_next"] !== null) return ctx.unsupported(loc.find(/\b(UNION|INTERSECT|EXCEPT)\b/), "UNION / INTERSECT / EXCEPT are not supported; declare separate queries");
  if (asArray(ast["window"]).length > 0 || (ast["window"] !== null && ast["window"] !== undefined)) {
    return ctx.unsupported(loc.findWord("WINDOW"), "window functions are not supported");
  }
  fromToIr(ctx, ast, table);

  const whereAt = loc.findWord("WHERE");
  const where = ast["where"] === null || ast["where"] === undefined ? null : predicateToIr(ctx, ast["where"], whereAt);
  const { projection, wrapper, countField } = columnsToIr(ctx, asArray(ast["columns"]), starAlias);
  const orderBy = orderToIr(ctx, asArray(ast["orderby"]), projection);
  const { limit, offset } = limitToIr(ctx, child(ast, "limit"));
  if (countField !== null && (orderBy.length > 0 || limit !== null || offset !== null)) {
    return ctx.unsupported(loc.find(/\b(ORDER\s+BY|LIMIT|OFFSET)\b/), "COUNT(*) counts every matching row: ORDER BY, LIMIT and OFFSET do not apply to it");
  }
  if (offset?.kind === "pageToken" && wrapper === null) {
    return ctx.unsupported(loc.find(/page_token_offset/), "page_token_offset(:token) needs a paged result: SELECT * AS items, next_page_token() AS nextPageToken FROM ...");
  }
  if (wrapper !== null && wrapper.nextPageTokenField !== null && offset !== null && offset.kind !== "pageToken") {
    return ctx.unsupported(loc.findWord("OFFSET"), "next_page_token() pages with OFFSET page_token_offset(:token), not a numeric OFFSET");
  }
  return Object.freeze({
    kind: "select",
    table,
    projection,
    wrapper,
    countField,
    where,
    whereAt,
    orderBy: Object.freeze(orderBy),
    limit,
    offset,
  });
}

function fromToIr(ctx: ConvertContext, ast: RawNode, table: string): void {
  const from = asArray(ast["from"]);
  const loc = ctx.locator;
  if (from.length === 0) return ctx.unsupported(START, `a view query needs FROM ${table}`);
  if (from.length > 1) return ctx.unsupported(loc.find(/\bJOIN\b|,\s*\w+\s*(WHERE|$)/, loc.findWord("FROM")), "joins are not supported yet (planned for v2): a v1 view query reads one table");
  const f = asNode(from[0]);
  if (f?.["expr"] !== undefined) return ctx.unsupported(loc.findWord("FROM"), "subqueries in FROM are not supported; query the view's table directly");
  const name = str(f, "table");
  if (name !== table) {
    return ctx.fail("ERR_SQL_TABLE", name === null ? loc.findWord("FROM") : loc.findWord(name), `this view's table is "${table}", but the query reads "${name ?? "?"}"; write FROM ${table}`);
  }
  const alias = str(f, "as");
  ctx.tableNames = new Set(alias === null ? [table] : [table, alias]);
}

interface Columns {
  projection: Projection;
  wrapper: PageWrapper | null;
  countField: string | null;
}

function columnsToIr(ctx: ConvertContext, columns: readonly unknown[], starAlias: string | null): Columns {
  let star = false;
  const out: OutputColumn[] = [];
  let countField: string | null = null;
  const meta = { next: null as string | null, more: null as string | null, total: null as string | null };
  const selectAt = ctx.locator.findWord("SELECT");
  for (const c of columns) {
    const col = asNode(c);
    const expr = child(col, "expr");
    const as = str(col, "as");
    const type = str(expr, "type");
    if (type === "column_ref" && expr?.["column"] === "*") {
      star = true;
      continue;
    }
    if (type === "column_ref") {
      const path = columnPath(ctx, expr as RawNode, selectAt);
      out.push(Object.freeze({ path: Object.freeze(path), as: as ?? (path[path.length - 1] as string) }));
      continue;
    }
    const fname = expr === null ? null : functionName(expr)?.toLowerCase() ?? null;
    if (type === "aggr_func" && fname === "count" && str(child(child(expr, "args"), "expr"), "type") === "star") {
      countField = as ?? "count";
      continue;
    }
    if (type === "function" && expr !== null && functionArgs(expr).length === 0) {
      if (fname === "next_page_token") meta.next = as ?? "nextPageToken";
      else if (fname === "has_more") meta.more = as ?? "hasMore";
      else if (fname === "total_count") meta.total = as ?? "totalCount";
      if (fname === "next_page_token" || fname === "has_more" || fname === "total_count") continue;
    }
    const at = fname === null ? selectAt : ctx.locator.findWord(fname, selectAt);
    const what = fname === null ? (type ?? "expression").replace(/_/g, " ") : `function ${fname}()`;
    const hint = type === "aggr_func" ? "; only COUNT(*) is supported (other aggregates and GROUP BY are planned for v2)" : "; select columns, *, COUNT(*), next_page_token(), has_more() or total_count()";
    return ctx.unsupported(at, `${what} is not supported in the select list${hint}`);
  }
  const hasMeta = meta.next !== null || meta.more !== null || meta.total !== null;
  if (countField !== null && (star || out.length > 0 || hasMeta)) {
    return ctx.unsupported(ctx.locator.findWord("COUNT", selectAt), "COUNT(*) must be the only selected value (GROUP BY is planned for v2)");
  }
  if (hasMeta && starAlias === null) {
    return ctx.unsupported(selectAt, "next_page_token(), has_more() and total_count() need wrapped rows: SELECT * AS items, next_page_token() AS nextPageToken ...");
  }
  if (starAlias !== null && out.length > 0) {
    return ctx.unsupported(selectAt, "SELECT * AS items wraps whole rows; it cannot be combined with single columns");
  }
  const projection: Projection = star || countField !== null ? { kind: "star" } : { kind: "columns", columns: Object.freeze(out) };
  if (star && out.length > 0) {
    return ctx.unsupported(selectAt, "mixing * with columns is not supported; select * or a list of columns");
  }
  const wrapper: PageWrapper | null =
    starAlias === null
      ? null
      : Object.freeze({ itemsField: starAlias, nextPageTokenField: meta.next, hasMoreField: meta.more, totalCountField: meta.total });
  return { projection: Object.freeze(projection), wrapper, countField };
}

function orderToIr(ctx: ConvertContext, terms: readonly unknown[], projection: Projection): OrderTerm[] {
  const at = ctx.locator.find(/\bORDER\s+BY\b/);
  return terms.map((t) => {
    const term = asNode(t);
    const expr = child(term, "expr");
    if (str(expr, "type") !== "column_ref") return ctx.unsupported(at, "ORDER BY supports columns only (not expressions or positions)");
    let path = columnPath(ctx, expr as RawNode, at);
    if (path.length === 1 && projection.kind === "columns") {
      const aliased = projection.columns.find((c) => c.as === path[0]);
      if (aliased !== undefined) path = [...aliased.path];
    }
    const desc = str(term, "type")?.toUpperCase() === "DESC";
    const nulls = str(term, "nulls")?.toUpperCase().replace(/\s+/g, " ") ?? null;
    if (nulls !== null && nulls !== (desc ? "NULLS LAST" : "NULLS FIRST")) {
      return ctx.unsupported(ctx.locator.find(/\bNULLS\s+(FIRST|LAST)\b/, at), `${nulls} is not supported: NULLs sort first with ASC and last with DESC (as in SQLite)`);
    }
    return Object.freeze({ path: Object.freeze(path), desc });
  });
}

function limitToIr(ctx: ConvertContext, limit: RawNode | null): { limit: CountExpr | null; offset: OffsetNode | null } {
  const values = asArray(limit?.["value"]);
  const sep = str(limit, "seperator") ?? "";
  let limitRaw: unknown = null;
  let offsetRaw: unknown = null;
  if (values.length === 2) [limitRaw, offsetRaw] = values;
  else if (values.length === 1 && sep.toLowerCase() === "offset") offsetRaw = values[0];
  else if (values.length === 1) limitRaw = values[0];
  const limitAt = ctx.locator.findWord("LIMIT");
  const offsetAt = ctx.locator.findWord("OFFSET");
  return {
    limit: limitRaw === null ? null : countToIr(ctx, limitRaw, limitAt, "LIMIT"),
    offset: offsetRaw === null ? null : offsetToIr(ctx, offsetRaw, offsetAt),
  };
}

function offsetToIr(ctx: ConvertContext, raw: unknown, at: SqlPosition): OffsetNode {
  const node = asNode(raw);
  const name = str(node, "type") === "param" ? str(node, "value") : null;
  if (name !== null && name.startsWith(PAGE_TOKEN_PARAM_PREFIX)) {
    const token = name.slice(PAGE_TOKEN_PARAM_PREFIX.length);
    ctx.useParam(token, "pageToken", true, at);
    return Object.freeze({ kind: "pageToken", param: token });
  }
  return countToIr(ctx, raw, at, "OFFSET");
}

function countToIr(ctx: ConvertContext, raw: unknown, at: SqlPosition, what: string): CountExpr {
  const v = valueToIr(ctx, raw, at, "integer");
  if (v.kind === "param") {
    ctx.useParam(v.name, "integer", true, at);
    return param(v.name);
  }
  if (v.kind === "literal" && typeof v.value === "number" && Number.isInteger(v.value) && v.value >= 0) return literal(v.value);
  return ctx.unsupported(at, `${what} needs a non-negative integer or a :param`);
}
