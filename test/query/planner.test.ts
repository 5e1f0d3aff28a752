// Plan tests: the compiled plan (index, ranges, order mode) AND the rows it returns.
import t from "tap";
import { PEOPLE, fixture } from "./helpers/fixture.js";

t.test("point query: equality index (name), pk order", async (t) => {
  const f = fixture({ byName: "SELECT * FROM people WHERE name = :name" }, PEOPLE);
  const q = f.view.queries["byName"]!;
  t.equal(q.plan.access.kind, "indexScan");
  t.same(f.view.indexes.map((i) => i.id), ["people:name"]);
  t.match(q.explain(), /index scan people:name\n\s+name = :name/);
  t.same(f.ids("byName", { name: "Ann" }), ["p1"]);
  t.same(f.ids("byName", { name: "nobody" }), []);
});

t.test("range + ORDER BY DESC + LIMIT: one descending index serves range and order", async (t) => {
  const f = fixture({ older: "SELECT name FROM people WHERE age >= :age::int ORDER BY age DESC LIMIT 2" }, PEOPLE);
  const q = f.view.queries["older"]!;
  t.same(f.view.indexes.map((i) => i.id), ["people:age desc"]);
  t.equal(q.plan.mode, "merge");
  t.match(q.explain(), /age >= :age/);
  t.same(f.run("older", { age: 20 }), [{ name: "Cid" }, { name: "Ann" }]);
});

t.test("IN list: one range per value, merged in ORDER BY order", async (t) => {
  const f = fixture({ inCities: "SELECT * FROM people WHERE city IN ('Rome', 'Oslo') ORDER BY age" }, PEOPLE);
  const q = f.view.queries["inCities"]!;
  t.same(f.view.indexes.map((i) => i.id), ["people:city,age"]);
  t.equal(q.plan.mode, "merge");
  t.match(q.explain(), /ranges merged/);
  t.same(f.ids("inCities"), ["p6", "p2", "p1", "p3"], "ages 19, 25, 31, 42 across both cities");
});

t.test("= ANY(:list) is an IN list from a param", async (t) => {
  const f = fixture({ anyOf: "SELECT * FROM people WHERE name = ANY(:names) ORDER BY name" }, PEOPLE);
  t.same(f.view.indexes.map((i) => i.id), ["people:name"]);
  t.same(f.ids("anyOf", { names: ["Eve", "Bob", "Bob", "zed"] }), ["p2", "p5"]);
  t.same(f.ids("anyOf", { names: [] }), []);
});

t.test("OR of indexable branches: union of scans, deduplicated, in order", async (t) => {
  const f = fixture({ either: "SELECT * FROM people WHERE city = 'Oslo' OR age < 26 ORDER BY name LIMIT 10" }, PEOPLE);
  const q = f.view.queries["either"]!;
  t.equal(q.plan.access.kind, "union");
  t.same(new Set(f.view.indexes.map((i) => i.id)), new Set(["people:city,name", "people:age"]));
  t.equal(q.plan.mode, "topK", "the age branch cannot yield name order: sorted in memory (LIMIT given)");
  t.same(f.ids("either"), ["p1", "p2", "p3", "p5", "p6"], "Oslo or young, each once, by name (BINARY: 'Ann' < 'Bob' < ... < 'ann')");
});

t.test("equality + range on another column + ORDER BY: index (eq, sort), range checked by the filter", async (t) => {
  const f = fixture({ q: "SELECT * FROM people WHERE city = 'Oslo' AND age > 30 ORDER BY name DESC" }, PEOPLE);
  t.same(f.view.indexes.map((i) => i.id), ["people:city,name desc"]);
  t.equal(f.view.queries["q"]!.plan.mode, "merge");
  t.same(f.ids("q"), ["p3", "p1"]);
});

t.test("an order no index provides: top-k with LIMIT, rejected without", async (t) => {
  const f = fixture({ topk: "SELECT * FROM people WHERE age > 20 ORDER BY name LIMIT 2" }, PEOPLE);
  const q = f.view.queries["topk"]!;
  t.same(f.view.indexes.map((i) => i.id), ["people:age"]);
  t.equal(q.plan.mode, "topK");
  t.match(q.explain(), /sorted in memory/);
  t.same(f.ids("topk"), ["p1", "p2"]);
  t.throws(() => fixture({ bad: "SELECT * FROM people WHERE age > 20 ORDER BY name" }, {}), { code: "ERR_ORDER_NEEDS_INDEX" });
});

t.test(":p = ANY(arrayColumn): multi-entry index, one entry per distinct element", async (t) => {
  const f = fixture({ tagged: "SELECT * FROM people WHERE :tag = ANY(tags) ORDER BY age" }, PEOPLE);
  t.same(f.view.indexes.map((i) => ({ id: i.id, each: i.columns.map((c) => c.each) })), [{ id: "people:tags[],age", each: [true, false] }]);
  t.same(f.ids("tagged", { tag: "dev" }), ["p4", "p2", "p1"], "p4 once although it lists dev twice; NULL age first");
  t.same(f.ids("tagged", { tag: "nope" }), []);
  const devEntries = f.txn.entries("index").filter((e) => e.value === "p4");
  t.equal(devEntries.length, 2, "p4 has entries for ops and dev only");
});

t.test("nested paths, aliases and LIKE prefix", async (t) => {
  const f = fixture({ q: "SELECT name AS who, address.city AS town FROM people p WHERE p.address.city LIKE 'O%'" }, PEOPLE);
  t.same(f.view.indexes.map((i) => i.id), ["people:address.city"]);
  t.match(f.view.queries["q"]!.explain(), /LIKE 'O%' \(prefix range\)/);
  t.same(f.run("q"), [{ who: "Ann", town: "Oslo" }]);
});

t.test("no WHERE: table scan in pk order; with ORDER BY: whole index in order", async (t) => {
  const f = fixture({ all: "SELECT * FROM people", sorted: "SELECT * FROM people ORDER BY age DESC, name LIMIT 3" }, PEOPLE);
  t.equal(f.view.queries["all"]!.plan.access.kind, "tableScan");
  t.same(f.ids("all"), ["p1", "p2", "p3", "p4", "p5", "p6"]);
  t.same(f.ids("sorted"), ["p3", "p1", "p2"], "42, 31, then 25: Bob before Eve");
});

t.test("IS NULL is an equality on NULL; IS NOT NULL a range", async (t) => {
  const f = fixture({ noCity: "SELECT * FROM people WHERE city IS NULL", hasAge: "SELECT * FROM people WHERE age IS NOT NULL ORDER BY age LIMIT 2" }, PEOPLE);
  t.same(f.ids("noCity"), ["p5"]);
  t.same(f.ids("hasAge"), ["p6", "p2"]);
});

t.test("identical index needs of several queries share one index", async (t) => {
  const f = fixture({ a: "SELECT * FROM people WHERE name = :n", b: "SELECT name FROM people WHERE name IN (:x, :y)" }, PEOPLE);
  t.same(f.view.indexes.map((i) => i.id), ["people:name"]);
});

t.test("three-valued logic: NOT IN with a NULL matches nothing; NOT of unknown stays unknown", async (t) => {
  const f = fixture(
    {
      notIn: "SELECT * FROM people WHERE city = 'Rome' AND age NOT IN (19, NULL)",
      notCmp: "SELECT * FROM people WHERE city IN ('Lima', 'Oslo') AND NOT (age > 40)",
    },
    PEOPLE,
  );
  t.same(f.ids("notIn"), []);
  t.same(f.ids("notCmp"), ["p1"], "Dee (age NULL) is excluded: NOT NULL is NULL");
});

t.test("strict comparisons: a string param never matches numbers (cast it)", async (t) => {
  const f = fixture({ loose: "SELECT * FROM people WHERE age > :a", typed: "SELECT * FROM people WHERE age > :a::int" }, PEOPLE);
  t.same(f.ids("loose", { a: "30" }), []);
  const typed = f.view.queries["typed"]!;
  t.same(f.ids("typed", typed.coerceParams({ a: "30" })), ["p1", "p3"]);
});

t.test("OR whose branches all yield the ORDER BY: merged without sorting", async (t) => {
  const f = fixture({ q: "SELECT * FROM people WHERE city = 'Oslo' OR name = :n ORDER BY age DESC" }, PEOPLE);
  const q = f.view.queries["q"]!;
  t.equal(q.plan.mode, "merge");
  t.same(new Set(f.view.indexes.map((i) => i.id)), new Set(["people:city,age desc", "people:name,age desc"]));
  t.same(f.ids("q", { n: "Bob" }), ["p3", "p1", "p2"]);
  t.same(f.ids("q", { n: "Cid" }), ["p3", "p1"], "Cid matches both branches, returned once");
});

t.test("OFFSET x LIMIT y (either order) pages by position", async (t) => {
  const f = fixture({ a: "SELECT * FROM people ORDER BY name OFFSET 1 LIMIT 2", b: "SELECT * FROM people ORDER BY name LIMIT 2 OFFSET 1" }, PEOPLE);
  t.same(f.ids("a"), ["p2", "p3"]);
  t.same(f.ids("b"), ["p2", "p3"]);
});
