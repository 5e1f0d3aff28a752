// A compiled query: the plan plus what one execution needs (parameters,
// paging, result shape). Built by compile-view.ts.
import type { KeyPart, ReadTxn } from "../storage/store.js";
import { QueryParamError } from "./errors.js";
import type { CountExpr, PredicateNode, SelectNode } from "./ir/nodes.js";
import type { ParamInfo } from "./ir/params.js";
import { printValue } from "./ir/print.js";
import { QueryError } from "./errors.js";
import type { Params } from "./exec/params.js";
import { validateParams } from "./exec/params.js";
import { decodePageToken, encodePageToken, queryFingerprint } from "./exec/page-token.js";
import { readPath } from "./values/value.js";
import { checkLikePattern } from "./values/like.js";
import { countRows, run } from "./exec/run.js";
import { evaluate } from "./exec/evaluate.js";
import type { RowItem } from "./exec/row-source.js";
import { coerceParams } from "./coerce-params.js";
import { explainPlan } from "./plan/explain.js";
import type { QueryPlan } from "./plan/plan-nodes.js";
import type { CompiledQuery, PageInfo, QueryCursor, ResultShape, Row } from "./types.js";

export interface QueryParts {
  readonly view: string;
  readonly name: string;
  readonly sql: string;
  readonly http: string | undefined;
  readonly select: SelectNode;
  readonly params: readonly ParamInfo[];
  readonly plan: QueryPlan;
  readonly maxRows: number;
  readonly single: boolean;
}

function likeParams(p: PredicateNode | null, out: Set<string>): Set<string> {
  if (p === null) return out;
  if (p.kind === "like" && p.pattern.kind === "param") out.add(p.pattern.name);
  if (p.kind === "and" || p.kind === "or") for (const i of p.items) likeParams(i, out);
  if (p.kind === "not") likeParams(p.operand, out);
  return out;
}

function shapeOf(s: SelectNode, single: boolean): ResultShape {
  if (s.countField !== null) return "count";
  if (s.wrapper !== null) return "page";
  return single ? "single" : "list";
}

export function makeCompiledQuery(q: QueryParts): CompiledQuery {
  const { select, plan } = q;
  const resultShape = shapeOf(select, q.single);
  const fingerprint = queryFingerprint([q.view, q.name, select.table, JSON.stringify(plan.order)]);
  const likes = [...likeParams(select.where, new Set())];
  const tokenParam = select.offset?.kind === "pageToken" ? select.offset.param : null;
  const page = select.wrapper;
  const wantMore = page !== null && (page.hasMoreField !== null || page.nextPageTokenField !== null);

  const countValue = (e: CountExpr | null, params: Params, what: string): number | null => {
    if (e === null) return null;
    const v = e.kind === "literal" ? e.value : params[e.name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      const name = e.kind === "param" ? e.name : what;
      throw new QueryParamError("ERR_PARAM_VALUE", `${what} :${name} must be a non-negative integer`, name);
    }
    return v;
  };

  const project = (item: RowItem): Row => {
    if (select.projection.kind === "star") return item.row;
    const out: Record<string, unknown> = {};
    for (const c of select.projection.columns) out[c.as] = readPath(item.row, c.path) ?? null;
    return out;
  };

  const check = (params: Params): void => {
    validateParams(q.name, q.params, params);
    for (const name of likes) {
      const v = params[name];
      if (typeof v !== "string") continue;
      const problem = checkLikePattern(v);
      if (problem !== null) throw new QueryParamError("ERR_PARAM_VALUE", `parameter :${name}: ${problem}`, name);
    }
  };

  const validated = (params: Params): { after: KeyPart[] | null; limit: number | null; offset: number } => {
    check(params);
    const after = tokenParam === null ? null : decodePageToken(params[tokenParam], fingerprint, plan.order.length, tokenParam);
    const limit = countValue(select.limit, params, "LIMIT");
    const offset = select.offset === null || select.offset.kind === "pageToken" ? 0 : (countValue(select.offset, params, "OFFSET") ?? 0);
    return { after, limit, offset };
  };

  const validate = (params: Params): void => {
    validated(params);
  };

  const open = (txn: ReadTxn, params: Params): QueryCursor => {
    const { after, limit, offset } = validated(params);
    const single = resultShape === "single";
    const r = run(txn, select.table, plan, params, {
      limit: single ? Math.min(limit ?? 2, 2) : limit,
      offset,
      after,
      wantMore: wantMore || single,
      rowsMax: q.maxRows,
    });
    function* rows(): Generator<Row> {
      let n = 0;
      for (const item of r.rows) {
        if (single && ++n > 1) throw new QueryError("ERR_NOT_UNIQUE", `query "${q.name}" is declared single but more than one row matches`);
        yield project(item);
      }
    }
    const info = (): PageInfo => {
      const total = page !== null && page.totalCountField !== null ? countRows(txn, select.table, plan, params) : undefined;
      const lastKey = r.info.lastKey();
      const token = r.info.hasMore && lastKey !== null ? encodePageToken(fingerprint, lastKey) : "";
      return { nextPageToken: token, hasMore: r.info.hasMore, totalCount: total };
    };
    return { rows: rows(), info };
  };

  function* countResult(txn: ReadTxn, params: Params, field: string): Generator<Row> {
    yield { [field]: countRows(txn, select.table, plan, params) };
  }

  function* pageResult(cursor: QueryCursor, fields: NonNullable<typeof page>): Generator<Row> {
    const items = [...cursor.rows];
    const info = cursor.info();
    const out: Record<string, unknown> = { [fields.itemsField]: items };
    if (fields.nextPageTokenField !== null) out[fields.nextPageTokenField] = info.nextPageToken;
    if (fields.hasMoreField !== null) out[fields.hasMoreField] = info.hasMore;
    if (fields.totalCountField !== null) out[fields.totalCountField] = info.totalCount;
    yield out;
  }

  // Parameters are checked when execute() is called; storage is read only as the result is consumed.
  const execute = (txn: ReadTxn, params: Params): Iterable<Row> => {
    if (select.countField !== null) {
      check(params);
      return countResult(txn, params, select.countField);
    }
    const cursor = open(txn, params);
    return page === null ? cursor.rows : pageResult(cursor, page);
  };

  const explain = (): string =>
    explainPlan({
      view: q.view,
      query: q.name,
      table: select.table,
      params: q.params,
      plan,
      limit: select.limit === null ? "none" : printValue(select.limit),
      offset: select.offset === null ? "none" : select.offset.kind === "pageToken" ? `after page token :${select.offset.param}` : printValue(select.offset),
      shape:
        page !== null
          ? `page object {${[page.itemsField, page.nextPageTokenField, page.hasMoreField, page.totalCountField].filter((f) => f !== null).join(", ")}}`
          : select.countField !== null
            ? `one row {${select.countField}: COUNT(*)}`
            : `${resultShape === "single" ? "at most one row" : "stream of rows"} (${select.projection.kind === "star" ? "*" : select.projection.columns.map((c) => c.as).join(", ")})`,
      maxRows: q.maxRows,
    });

  return Object.freeze({
    view: q.view,
    name: q.name,
    sql: q.sql,
    http: q.http,
    params: q.params,
    resultShape,
    page,
    countField: select.countField,
    maxRows: q.maxRows,
    plan,
    explain,
    matches: (row: Row, params: Readonly<Record<string, unknown>>) => plan.filter === null || evaluate(plan.filter, row, params) === true,
    coerceParams: (raw: Readonly<Record<string, string>>) => coerceParams({ params: q.params }, raw),
    execute: (txn: ReadTxn, params: Readonly<Record<string, unknown>>) => execute(txn, params),
    open,
    validate,
  });
}
