// A compiled view over a MemoryTxn loaded with rows, for plan/behaviour tests.
import { compileView } from "../../../src/query/compile-view.js";
import type { CompiledView, QueryDefinition, Row } from "../../../src/query/types.js";
import { MemoryTxn } from "./memory-txn.js";

export interface Fixture {
  readonly view: CompiledView;
  readonly txn: MemoryTxn;
  /** Runs a query and returns its rows (or page/count objects). */
  run(query: string, params?: Record<string, unknown>): Row[];
  /** Runs a query and returns the `id` field of each row. */
  ids(query: string, params?: Record<string, unknown>): unknown[];
}

export function fixture(queries: Record<string, string | QueryDefinition>, rows: Record<string, Row>, table = "people"): Fixture {
  const defs = Object.fromEntries(Object.entries(queries).map(([k, v]) => [k, typeof v === "string" ? { sql: v } : v]));
  const view = compileView({ name: "people", table, queries: defs });
  const txn = new MemoryTxn();
  for (const [pk, row] of Object.entries(rows)) view.applyRowChange(txn, pk, { id: pk, ...row });
  const run = (query: string, params: Record<string, unknown> = {}): Row[] => {
    const q = view.queries[query];
    if (q === undefined) throw new Error(`no query ${query}`);
    return [...q.execute(txn, params)];
  };
  return { view, txn, run, ids: (q, p) => run(q, p).map((r) => r["id"]) };
}

export const PEOPLE: Record<string, Row> = {
  p1: { name: "Ann", age: 31, city: "Oslo", tags: ["admin", "dev"], address: { city: "Oslo", zip: "0150" } },
  p2: { name: "Bob", age: 25, city: "Rome", tags: ["dev"], address: { city: "Rome" } },
  p3: { name: "Cid", age: 42, city: "Oslo", tags: [], address: null },
  p4: { name: "Dee", age: null, city: "Lima", tags: ["ops", "dev", "dev"] },
  p5: { name: "Eve", age: 25, city: null },
  p6: { name: "ann", age: 19, city: "Rome", tags: ["admin"] },
};
