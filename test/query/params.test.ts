// Parameters: inferred types, missing/wrong-type errors, HTTP string coercion,
// value checks, the row cap and single-row results.
import t from "tap";
import { coerceParams } from "../../src/query/coerce-params.js";
import { QueryError } from "../../src/query/errors.js";
import { PEOPLE, fixture } from "./helpers/fixture.js";

const f = fixture(
  {
    byName: "SELECT * FROM people WHERE name = :name",
    typed: "SELECT * FROM people WHERE age >= :min::int AND age < :max::float AND name = ANY(:names::text[]) LIMIT :n",
    prefix: "SELECT * FROM people WHERE name LIKE :p",
    flags: "SELECT * FROM people WHERE city = :c AND active = :on::boolean",
    capped: { sql: "SELECT * FROM people WHERE age > 0 ORDER BY age", maxRows: 2 },
    one: { sql: "SELECT * FROM people WHERE name = :name", result: "single" },
  },
  PEOPLE,
);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof QueryError ? `${e.code}:${e.param ?? ""}` : String(e);
  }
  return undefined;
}

t.test("types inferred from the SQL", async (t) => {
  t.same(f.view.queries["byName"]!.params, [{ name: "name", type: "any", optional: false }]);
  t.same(
    f.view.queries["typed"]!.params.map((p) => `${p.name}:${p.type}`),
    ["min:integer", "max:number", "names:string[]", "n:integer"],
  );
  t.same(f.view.queries["prefix"]!.params.map((p) => p.type), ["string"]);
});

t.test("missing and wrong-type parameters name the parameter", async (t) => {
  t.equal(codeOf(() => f.run("byName")), "ERR_PARAM_MISSING:name");
  t.equal(codeOf(() => f.run("byName", { name: [1] })), "ERR_PARAM_TYPE:name");
  t.equal(codeOf(() => f.run("typed", { min: 1.5, max: 2, names: [], n: 1 })), "ERR_PARAM_TYPE:min");
  t.equal(codeOf(() => f.run("typed", { min: 1, max: 2, names: "Ann", n: 1 })), "ERR_PARAM_TYPE:names");
  t.equal(codeOf(() => f.run("typed", { min: 1, max: 2, names: [], n: -1 })), "ERR_PARAM_VALUE:n");
  t.equal(codeOf(() => f.run("prefix", { p: "%nn" })), "ERR_PARAM_VALUE:p");
  t.same(f.ids("byName", { name: null }), [], "null is SQL NULL: matches nothing");
});

t.test("coerceParams converts HTTP strings by the inferred types", async (t) => {
  const typed = f.view.queries["typed"]!;
  t.same(coerceParams(typed, { min: "20", max: "40.5", names: "Ann,Bob", n: "10", extra: "x" }), { min: 20, max: 40.5, names: ["Ann", "Bob"], n: 10 });
  t.same(typed.coerceParams({ names: '["Cid"]' }), { names: ["Cid"] });
  t.same(typed.coerceParams({ names: "" }), { names: [] });
  t.same(f.ids("typed", typed.coerceParams({ min: "20", max: "40.5", names: "Ann,Bob,Cid", n: "10" })), ["p2", "p1"], "index (name, age): merged by age");
  t.equal(codeOf(() => typed.coerceParams({ min: "twenty" })), "ERR_PARAM_TYPE:min");
  t.equal(codeOf(() => typed.coerceParams({ max: "" })), "ERR_PARAM_TYPE:max");
  t.same(f.view.queries["flags"]!.coerceParams({ c: "Oslo", on: "TRUE" }), { c: "Oslo", on: true });
  t.same(f.view.queries["byName"]!.coerceParams({ name: "42" }), { name: "42" }, "untyped params stay strings");
});

t.test("LIKE :param takes prefix patterns and exact strings", async (t) => {
  t.same(f.ids("prefix", { p: "A%" }), ["p1"]);
  t.same(f.ids("prefix", { p: "%" }), ["p1", "p2", "p3", "p4", "p5", "p6"]);
  t.same(f.ids("prefix", { p: "Bob" }), ["p2"]);
  t.same(f.ids("prefix", { p: "a%" }), ["p6"], "case-sensitive");
});

t.test("row cap: rows stream, then ERR_TOO_MANY_ROWS telling the user to page", async (t) => {
  const seen: unknown[] = [];
  const err = codeOf(() => {
    for (const row of f.view.queries["capped"]!.execute(f.txn, {})) seen.push(row["id"]);
  });
  t.equal(err, "ERR_TOO_MANY_ROWS:");
  t.same(seen, ["p6", "p2"], "the first maxRows rows were streamed before the error");
  t.throws(() => f.run("capped"), { message: /page it with LIMIT and next_page_token/ });
});

t.test("single-row queries", async (t) => {
  t.same(f.ids("one", { name: "Bob" }), ["p2"]);
  t.same(f.ids("one", { name: "nobody" }), []);
  const g = fixture({ one: { sql: "SELECT * FROM people WHERE age = :a", result: "single" } }, PEOPLE);
  t.equal(codeOf(() => g.run("one", { a: 25 })), "ERR_NOT_UNIQUE:");
  t.equal(g.view.queries["one"]!.resultShape, "single");
});

t.test("execute is lazy: nothing is read before the first pull", async (t) => {
  let reads = 0;
  const counting = new Proxy(f.txn, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        reads++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const it = f.view.queries["capped"]!.execute(counting, {})[Symbol.iterator]();
  t.equal(reads, 0);
  it.next();
  t.ok(reads > 0);
});

t.test("a single query with LIMIT 1 returns the first row without a uniqueness error", async (t) => {
  const g = fixture({ first: { sql: "SELECT * FROM people WHERE age = :a ORDER BY name LIMIT 1", result: "single" } }, PEOPLE);
  t.same(g.ids("first", { a: 25 }), ["p2"]);
});
