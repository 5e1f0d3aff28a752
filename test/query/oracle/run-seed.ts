// One differential case: a random schema, random queries, random batches of
// upserts/deletes. After every batch every accepted query must return what
// SQLite returns for the same SQL on the same data (rows and order), paged
// queries must continue correctly across writes, and the incremental rows +
// indexes must equal a from-scratch rebuild.
import Database from "better-sqlite3";
import { isDeepStrictEqual } from "node:util";
import { compileView } from "../../../src/query/compile-view.js";
import { ViewCompileError } from "../../../src/query/errors.js";
import type { CompiledQuery, CompiledView } from "../../../src/query/types.js";
import { compareSortKeys, sortKey } from "../../../src/query/exec/row-source.js";
import { MemoryTxn } from "../helpers/memory-txn.js";
import { Random } from "./random.js";
import type { GenQuery } from "./gen-query.js";
import { randomQuery, renderCalyx, renderCond, renderSqlite, sqliteParams } from "./gen-query.js";
import type { Row, Schema } from "./schema.js";
import { randomRow, randomSchema, sqliteName, sqliteRow } from "./schema.js";

export interface SeedStats {
  queries: number;
  rejected: number;
  comparisons: number;
  pages: number;
}

export interface SeedOptions {
  readonly queries: number;
  readonly batches: number;
  readonly opsPerBatch: number;
  readonly keys: number;
}

export const DEFAULT_SEED_OPTIONS: SeedOptions = { queries: 10, batches: 5, opsPerBatch: 8, keys: 30 };

const TABLE = "t";

interface Case {
  readonly gen: GenQuery;
  readonly sql: string;
  readonly pagedName: string | null;
  readonly pageSize: number;
}

function fail(seed: number, what: string, details: Record<string, unknown>): never {
  throw new Error(`oracle seed ${seed}: ${what}\n${JSON.stringify(details, null, 2)}`);
}

export function runSeed(seed: number, opts: SeedOptions = DEFAULT_SEED_OPTIONS): SeedStats {
  const r = new Random(seed);
  const schema = randomSchema(r);
  const stats: SeedStats = { queries: 0, rejected: 0, comparisons: 0, pages: 0 };
  const accepted = new Map<string, Case>();
  const defs: Record<string, { sql: string }> = {};
  for (let i = 0; i < opts.queries; i++) {
    const gen = randomQuery(r, schema);
    const sql = renderCalyx(gen, TABLE);
    try {
      compileView({ name: "v", table: TABLE, queries: { q: { sql } } });
    } catch (e) {
      if (e instanceof ViewCompileError && (e.code === "ERR_NO_INDEXABLE_CONDITION" || e.code === "ERR_ORDER_NEEDS_INDEX")) {
        stats.rejected++;
        continue;
      }
      fail(seed, "unexpected compile error", { sql, error: String(e) });
    }
    const name = `q${i}`;
    defs[name] = { sql };
    let pagedName: string | null = null;
    const pageSize = r.int(1, 3);
    if (gen.order.length > 0 && gen.offset === null) {
      let paged = `SELECT * AS items, next_page_token() AS next, has_more() AS more, total_count() AS total FROM ${TABLE}`;
      if (gen.where !== null) paged += ` WHERE ${renderCond(gen.where, false)}`;
      paged += ` ORDER BY ${gen.order.map((o) => `${o.col.path.join(".")} ${o.desc ? "DESC" : "ASC"}`).join(", ")}`;
      paged += ` OFFSET page_token_offset(:tok) LIMIT ${pageSize}`;
      defs[`${name}_paged`] = { sql: paged };
      pagedName = `${name}_paged`;
    }
    if (gen.where !== null) defs[`${name}_count`] = { sql: `SELECT COUNT(*) AS n FROM ${TABLE} WHERE ${renderCond(gen.where, false)}` };
    accepted.set(name, { gen, sql, pagedName, pageSize });
  }
  stats.queries = accepted.size;
  const view = compileView({ name: "v", table: TABLE, queries: defs });
  for (const [name, c] of accepted) {
    // No query with a WHERE clause scans the whole table: every scan is bounded by an equality or a range.
    const a = (view.queries[name] as CompiledQuery).plan.access;
    const scans = a.kind === "union" ? a.scans : a.kind === "indexScan" ? [a] : [];
    if (c.gen.where !== null && (a.kind === "tableScan" || scans.some((s) => s.eq.length === 0 && s.range === null))) {
      fail(seed, "a query with WHERE scans a whole table or index", { sql: c.sql, plan: (view.queries[name] as CompiledQuery).explain() });
    }
  }

  const db = new Database(":memory:");
  db.pragma("case_sensitive_like = ON");
  const cols = ["pk PRIMARY KEY", ...schema.cols.map((c) => sqliteName(c.path)), ...(schema.hasTags ? ["tags"] : [])];
  db.exec(`CREATE TABLE ${TABLE} (${cols.join(", ")})`);
  const names = cols.map((c) => c.split(" ")[0] as string);
  const upsert = db.prepare(`INSERT OR REPLACE INTO ${TABLE} (${names.join(", ")}) VALUES (${names.map((n) => `@${n}`).join(", ")})`);
  const del = db.prepare(`DELETE FROM ${TABLE} WHERE pk = ?`);

  const model = new Map<string, Row>();
  const txn = new MemoryTxn();
  const randomOp = (): void => {
    const pk = `k${r.int(0, opts.keys - 1)}`;
    if (r.chance(0.25)) {
      view.applyRowChange(txn, pk, null);
      del.run(pk);
      model.delete(pk);
    } else {
      const row = { ...randomRow(r, schema), id: pk };
      view.applyRowChange(txn, pk, row);
      upsert.run(sqliteRow(schema, pk, row));
      model.set(pk, row);
    }
  };

  for (let b = 0; b < opts.batches; b++) {
    for (let i = 0; i < opts.opsPerBatch; i++) randomOp();
    checkRebuild(seed, view, txn, model);
    for (const [name, c] of accepted) {
      compareQuery(seed, db, txn, view.queries[name] as CompiledQuery, c, schema);
      stats.comparisons++;
      const counter = view.queries[`${name}_count`];
      if (counter !== undefined) {
        const sql = `SELECT COUNT(*) AS n FROM ${TABLE} WHERE ${renderCond(c.gen.where as NonNullable<GenQuery["where"]>, true)}`;
        const expected = (db.prepare(sql).get(sqliteParams(c.gen.params, sql)) as { n: number }).n;
        const actual = ([...counter.execute(txn, c.gen.params)][0] as { n: number }).n;
        if (actual !== expected) fail(seed, "COUNT(*) differs", { sql: c.sql, params: c.gen.params, expected, actual });
      }
      if (c.pagedName !== null && b % 2 === 1) {
        stats.pages += comparePaging(seed, db, txn, view.queries[c.pagedName] as CompiledQuery, c, () => randomOp());
        checkRebuild(seed, view, txn, model);
      }
    }
  }
  db.close();
  return stats;
}

function expectedPks(db: Database.Database, q: CompiledQuery, c: Case): string[] {
  const ordered = q.plan.mode !== "unordered";
  const sql = renderSqlite(c.gen, TABLE, ordered ? q.plan.order : []);
  return (db.prepare(sql).all(sqliteParams(c.gen.params, sql)) as { pk: string }[]).map((x) => x.pk);
}

function countValue(v: { lit: unknown } | { param: string; value: unknown } | null): number | null {
  if (v === null) return null;
  return ("lit" in v ? v.lit : v.value) as number;
}

function compareQuery(seed: number, db: Database.Database, txn: MemoryTxn, q: CompiledQuery, c: Case, schema: Schema): void {
  let expected = expectedPks(db, q, c);
  const offset = countValue(c.gen.offset) ?? 0;
  const limit = countValue(c.gen.limit);
  expected = expected.slice(offset, limit === null ? undefined : offset + limit);
  let actual: string[];
  try {
    actual = [...q.execute(txn, c.gen.params)].map((row) => row["id"] as string);
  } catch (e) {
    return fail(seed, "query threw", { sql: c.sql, params: c.gen.params, error: String(e), plan: q.explain(), schema });
  }
  const same = q.plan.mode === "unordered" ? isDeepStrictEqual([...actual].sort(), [...expected].sort()) : isDeepStrictEqual(actual, expected);
  if (!same) fail(seed, "rows differ from SQLite", { sql: c.sql, params: c.gen.params, expected, actual, plan: q.explain(), schema });
}

/** Pages through the paged variant, writing between pages; each page must be SQLite's rows after the token row. */
function comparePaging(seed: number, db: Database.Database, txn: MemoryTxn, q: CompiledQuery, c: Case, write: () => void): number {
  let tok = "";
  let after: ReturnType<typeof sortKey> | null = null;
  for (let page = 0; page < 50; page++) {
    const result = [...q.execute(txn, { ...c.gen.params, tok })][0] as { items: Row[]; next: string; more: boolean; total: number };
    const sql = renderSqlite(c.gen, TABLE, q.plan.order);
    const all = (db.prepare(sql).all(sqliteParams(c.gen.params, sql)) as { pk: string }[]).map((x) => x.pk);
    const rowsNow = (pks: readonly string[]): Row[] => pks.map((pk) => (txn.get("rows", rowKeyOf(pk)) as Row));
    const remaining = rowsNow(all).filter((row) => after === null || compareSortKeys(sortKey({ pk: row["id"] as string, row }, q.plan.order), after, q.plan.order) > 0);
    const expected = remaining.slice(0, c.pageSize).map((row) => row["id"]);
    const actual = result.items.map((row) => row["id"]);
    const more = remaining.length > c.pageSize;
    if (result.total !== all.length) fail(seed, "total_count() differs", { sql: c.sql, page, expected: all.length, actual: result.total });
    if (!isDeepStrictEqual(actual, expected) || result.more !== more || (result.next === "") === more) {
      fail(seed, "page differs", { sql: c.sql, page, params: c.gen.params, expected, actual, more: result.more, expectedMore: more, plan: q.explain() });
    }
    if (!more) return page + 1;
    const last = result.items[result.items.length - 1] as Row;
    after = sortKey({ pk: last["id"] as string, row: last }, q.plan.order);
    tok = result.next;
    write();
  }
  return 50;
}

import { encodeKey } from "../../../src/storage/key-codec.js";
function rowKeyOf(pk: string): Buffer {
  return encodeKey([TABLE, pk]);
}

function checkRebuild(seed: number, view: CompiledView, txn: MemoryTxn, model: Map<string, Row>): void {
  const fresh = new MemoryTxn();
  for (const [pk, row] of model) view.applyRowChange(fresh, pk, row);
  for (const db of ["rows", "index"] as const) {
    const a = txn.entries(db);
    const b = fresh.entries(db);
    const same = a.length === b.length && a.every((e, i) => e.key.equals((b[i] as { key: Buffer }).key) && isDeepStrictEqual(e.value, (b[i] as { value: unknown }).value));
    if (!same) fail(seed, `incremental ${db} differ from a rebuild`, { incremental: a.length, rebuilt: b.length });
  }
}
