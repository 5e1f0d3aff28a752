// How stored values behave: strict comparisons, objects/arrays, Dates, NaN,
// long strings (truncated in keys, re-checked by the filter).
import t from "tap";
import { compareSql, COMPLEX, toKeyPart, toSqlValue } from "../../src/query/values/value.js";
import { INDEX_STRING_BYTES_MAX } from "../../src/query/limits.js";
import { fixture } from "./helpers/fixture.js";

t.test("toSqlValue", async (t) => {
  t.equal(toSqlValue(undefined), null);
  t.equal(toSqlValue(Number.NaN), null);
  t.equal(Object.is(toSqlValue(-0), 0), true);
  t.equal(toSqlValue(10n), 10);
  t.equal(toSqlValue(new Date("2026-01-02T03:04:05Z")), "2026-01-02T03:04:05.000Z");
  t.equal(toSqlValue(new Date("nope")), null);
  t.equal(toSqlValue({ a: 1 }), COMPLEX);
  t.equal(toSqlValue([1]), COMPLEX);
});

t.test("comparisons are strict across types and UTF-8 ordered within strings", async (t) => {
  t.equal(compareSql(1, "1"), null);
  t.equal(compareSql(true, 1), null);
  t.equal(compareSql(null, null), null);
  t.equal(compareSql(COMPLEX, 1), null);
  t.equal(compareSql("\uffff", "😀"), -1, "U+FFFF < U+1F600 by code point (JS's UTF-16 '<' says the opposite)");
  t.equal(compareSql(false, true), -1);
  t.equal(compareSql(2, 10), -1);
});

t.test("objects and arrays: not NULL, never equal, sorted and indexed like NULL", async (t) => {
  const f = fixture(
    {
      isNull: "SELECT * FROM people WHERE v IS NULL",
      notNull: "SELECT * FROM people WHERE v IS NOT NULL ORDER BY v LIMIT 10",
      eq: "SELECT * FROM people WHERE v = :v",
    },
    { a: { v: { x: 1 } }, b: { v: null }, c: { v: 3 }, d: { v: [1, 2] }, e: {} },
  );
  t.same(f.ids("isNull"), ["b", "e"]);
  t.same(f.ids("notNull"), ["c"], "the IS NOT NULL range skips null keys; objects are indexed as null");
  t.same(f.ids("eq", { v: 3 }), ["c"]);
  t.equal(toKeyPart({ x: 1 }), null);
});

t.test("long strings: keys keep a prefix, filters the whole value", async (t) => {
  const base = "x".repeat(INDEX_STRING_BYTES_MAX);
  const f = fixture(
    { eq: "SELECT * FROM people WHERE s = :s", gt: "SELECT * FROM people WHERE s > :s ORDER BY s", lt: "SELECT * FROM people WHERE s < :s ORDER BY s" },
    { a: { s: `${base}a` }, b: { s: `${base}b` }, c: { s: `${base}c` }, d: { s: "w" } },
  );
  t.equal((toKeyPart(`${base}abc`) as string).length, INDEX_STRING_BYTES_MAX);
  t.same(f.ids("eq", { s: `${base}b` }), ["b"]);
  t.same(f.ids("gt", { s: `${base}a` }), ["b", "c"]);
  t.same(f.ids("lt", { s: `${base}c` }), ["d", "a", "b"]);
});

t.test("NaN and Date values in rows", async (t) => {
  const f = fixture(
    { when: "SELECT * FROM people WHERE \"at\" >= :from ORDER BY \"at\"", nan: "SELECT * FROM people WHERE n IS NULL" },
    { a: { at: new Date("2026-03-01T00:00:00Z"), n: Number.NaN }, b: { at: new Date("2025-03-01T00:00:00Z"), n: 1 }, c: { at: "2026-01-01T00:00:00.000Z", n: 2 } },
  );
  t.same(f.ids("when", { from: "2026-01-01" }), ["c", "a"], "Dates compare as ISO strings; a reserved word as a column needs double quotes");
  t.same(f.ids("nan"), ["a"]);
});
