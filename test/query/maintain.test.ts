// Row and index maintenance inside the caller's transaction, and the
// CommitHook that plugs views into the storage committer.
import t from "tap";
import { compileView } from "../../src/query/compile-view.js";
import { ViewMaintainer } from "../../src/query/maintain/view-maintainer.js";
import { decodeKey } from "../../src/storage/key-codec.js";
import type { DbName } from "../../src/storage/store.js";
import { MemoryTxn } from "./helpers/memory-txn.js";

const view = compileView({
  name: "people",
  table: "people",
  queries: {
    byCity: { sql: "SELECT * FROM people WHERE city = :c ORDER BY age DESC" },
    byTag: { sql: "SELECT * FROM people WHERE :t = ANY(tags)" },
  },
});

t.test("applyRowChange writes the row and one entry per index (per array element)", async (t) => {
  const txn = new MemoryTxn();
  const d = view.applyRowChange(txn, "p1", { city: "Oslo", age: 30, tags: ["a", "b", "a"] });
  t.same(d, { table: "people", pk: "p1", old: null, new: { city: "Oslo", age: 30, tags: ["a", "b", "a"] } });
  t.equal(txn.entries("rows").length, 1);
  const flags = (id: string): boolean[] => [false, ...view.indexes.find((i) => i.id === id)!.columns.map((c) => c.desc), false];
  const keys = txn.entries("index").map((e) => {
    const id = decodeKey(e.key.subarray(0, 1 + e.key.indexOf(0, 1) + 1))[0] as string;
    return { id, parts: decodeKey(e.key, flags(id)), value: e.value };
  });
  t.same(keys.map((k) => k.parts), [
    ["people:city,age desc", "Oslo", 30, "p1"],
    ["people:tags[]", "a", "p1"],
    ["people:tags[]", "b", "p1"],
  ]);
  t.ok(keys.every((k) => k.value === "p1"), "entry values are the pk");
});

t.test("an update moves only the entries that changed; a delete removes all", async (t) => {
  const txn = new MemoryTxn();
  view.applyRowChange(txn, "p1", { city: "Oslo", age: 30, tags: ["a"] });
  const before = txn.entries("index").map((e) => e.key.toString("hex"));
  const d = view.applyRowChange(txn, "p1", { city: "Oslo", age: 30, tags: ["a", "c"] });
  t.same(d.old, { city: "Oslo", age: 30, tags: ["a"] });
  const after = txn.entries("index").map((e) => e.key.toString("hex"));
  t.equal(after.length, 3);
  t.ok(before.every((k) => after.includes(k)), "unchanged entries stay");
  view.applyRowChange(txn, "p1", null);
  t.equal(txn.entries("rows").length, 0);
  t.equal(txn.entries("index").length, 0);
  t.same(view.applyRowChange(txn, "nobody", null), { table: "people", pk: "nobody", old: null, new: null });
});

t.test("an update that leaves the row as it was writes nothing; any difference, key order included, is written", async (t) => {
  class CountingTxn extends MemoryTxn {
    writes = 0;
    override put(db: DbName, key: Buffer, value: unknown): void {
      this.writes++;
      super.put(db, key, value);
    }
    override remove(db: DbName, key: Buffer): void {
      this.writes++;
      super.remove(db, key);
    }
  }
  const txn = new CountingTxn();
  view.applyRowChange(txn, "p1", { city: "Oslo", age: 30, tags: ["a"], meta: { since: 2020 } });
  t.ok(txn.writes > 0);
  const stored = txn.entries("rows").map((e) => e.key.toString("hex"));
  txn.writes = 0;
  const same = view.applyRowChange(txn, "p1", { city: "Oslo", age: 30, tags: ["a"], meta: { since: 2020 } });
  t.equal(txn.writes, 0, "the same row again: no put, no index change");
  t.same(same, { table: "people", pk: "p1", old: { city: "Oslo", age: 30, tags: ["a"], meta: { since: 2020 } }, new: { city: "Oslo", age: 30, tags: ["a"], meta: { since: 2020 } } }, "the delta still says old and new");
  t.same(txn.entries("rows").map((e) => e.key.toString("hex")), stored);
  view.applyRowChange(txn, "p1", { age: 30, city: "Oslo", tags: ["a"], meta: { since: 2020 } });
  t.equal(txn.writes, 1, "another key order: the row is written (index entries unchanged)");
  t.same(Object.keys(txn.get("rows", txn.entries("rows")[0]!.key) as object), ["age", "city", "tags", "meta"]);
  txn.writes = 0;
  view.applyRowChange(txn, "p1", { age: 30, city: "Oslo", tags: ["a"], meta: { since: 2021 } });
  t.equal(txn.writes, 1, "a nested value changed: written");
  txn.writes = 0;
  view.applyRowChange(txn, "p1", { age: 30, city: "Oslo", tags: ["a"], meta: { since: new Date(0) } });
  view.applyRowChange(txn, "p1", { age: 30, city: "Oslo", tags: ["a"], meta: { since: new Date(0) } });
  t.equal(txn.writes, 2, "a Date counts as different each time (written)");
  txn.writes = 0;
  view.applyRowChange(txn, "p1", { age: 30, city: "Oslo", tags: ["a", "b"], meta: { since: 1 } });
  t.equal(txn.writes, 2, "a changed array: the row and its new index entry");
});

t.test("rows without an array get no multi-entry entries; read-your-writes in one txn", async (t) => {
  const txn = new MemoryTxn();
  view.applyRowChange(txn, "p1", { city: "Rome", tags: "not-an-array" });
  t.equal(txn.entries("index").length, 1, "only the byCity entry");
  t.same([...view.queries["byCity"]!.execute(txn, { c: "Rome" })], [{ city: "Rome", tags: "not-an-array" }]);
  t.same([...view.queries["byTag"]!.execute(txn, { t: "not-an-array" })], []);
});

t.test("ViewMaintainer applies an EntityWrite's view changes and returns the deltas", async (t) => {
  const m = new ViewMaintainer([view]);
  const txn = new MemoryTxn();
  const deltas = m.apply(txn, {
    component: "person",
    id: "p1",
    baseSeq: 0,
    events: [],
    views: [
      { table: "people", pk: "p1", row: { city: "Oslo", age: 1 } },
      { table: "people", pk: "p2", row: { city: "Oslo", age: 2 } },
    ],
  });
  t.same(deltas.map((d) => d.pk), ["p1", "p2"]);
  t.same([...view.queries["byCity"]!.execute(txn, { c: "Oslo" })].map((r) => r["age"]), [2, 1]);
  t.same(m.apply(txn, { component: "person", id: "p1", baseSeq: 1, events: [] }), [], "no view changes");
  t.throws(() => m.apply(txn, { component: "x", id: "1", baseSeq: 0, events: [], views: [{ table: "nope", pk: "1", row: null }] }), /unknown table "nope"/);
  t.throws(() => new ViewMaintainer([view, view]), /both use table/);
});

t.test("buildIndexChunk builds an index from stored rows, resumable; clearIndexChunk drops it", async (t) => {
  const { buildIndexChunk, clearIndexChunk } = await import("../../src/query/maintain/build-index.js");
  const incremental = new MemoryTxn();
  const rowsOnly = new MemoryTxn();
  const bare = compileView({ name: "people", table: "people", queries: {} });
  for (let i = 0; i < 57; i++) {
    const row = { city: `c${i % 5}`, age: i % 7, tags: i % 3 === 0 ? null : [`t${i % 4}`, "all"] };
    view.applyRowChange(incremental, `p${i}`, row);
    bare.applyRowChange(rowsOnly, `p${i}`, row);
  }
  // another table's rows must not be indexed
  compileView({ name: "other", table: "peoplex", queries: {} }).applyRowChange(rowsOnly, "x", { city: "c1" });
  for (const ix of view.indexes) {
    let after: string | null = null;
    let chunks = 0;
    do {
      const p = buildIndexChunk(rowsOnly, ix, after, 10);
      after = p.lastPk;
      chunks++;
    } while (after !== null);
    t.equal(chunks, 6, `${ix.id}: 57 rows in chunks of 10`);
  }
  const hex = (txn: MemoryTxn): string[] => txn.entries("index").map((e) => `${e.key.toString("hex")}=${String(e.value)}`);
  t.same(hex(rowsOnly), hex(incremental), "same entries as incremental maintenance");
  const first = view.indexes[0]!;
  let removed = 0;
  for (let n = clearIndexChunk(rowsOnly, first.id, 20); n > 0; n = clearIndexChunk(rowsOnly, first.id, 20)) removed += n;
  t.equal(removed, 57);
  t.ok(rowsOnly.entries("index").length > 0, "other indexes stay");
});

t.test("matches() evaluates the WHERE on one row (for live queries)", async (t) => {
  const q = view.queries["byCity"]!;
  t.equal(q.matches({ city: "Oslo" }, { c: "Oslo" }), true);
  t.equal(q.matches({ city: null }, { c: "Oslo" }), false);
  t.equal(view.queries["byTag"]!.matches({ tags: ["a"] }, { t: "a" }), true);
});
