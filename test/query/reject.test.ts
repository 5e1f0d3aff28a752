// Everything outside the v1 subset is rejected at load, with the view, the
// query, the position and a message naming the supported alternative.
import t from "tap";
import { compileView } from "../../src/query/compile-view.js";
import { ViewCompileError } from "../../src/query/errors.js";

interface Case {
  sql: string;
  code: string;
  line: number;
  column: number;
  message: RegExp;
}

const CASES: Case[] = [
  { sql: "SELECT city, COUNT(*) FROM people GROUP BY city", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 35, message: /GROUP BY is not supported yet/ },
  { sql: "SELECT name, COUNT(*) FROM people", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 14, message: /COUNT\(\*\) must be the only selected value/ },
  { sql: "SELECT * FROM people WHERE age > 1 GROUP BY city", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 36, message: /GROUP BY is not supported yet \(planned for v2\)/ },
  { sql: "SELECT * FROM people JOIN orders ON people.id = orders.pid", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 22, message: /joins are not supported yet/ },
  { sql: "SELECT DISTINCT name FROM people", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 8, message: /DISTINCT/ },
  { sql: "SELECT lower(name) FROM people", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 8, message: /function lower\(\) is not supported in the select list/ },
  { sql: "SELECT * FROM people WHERE name ILIKE 'a%'", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 28, message: /ILIKE is not supported.*lower-cased copy/ },
  { sql: "SELECT * FROM people WHERE name LIKE '%nn'", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 28, message: /only prefix patterns \('abc%'\)/ },
  { sql: "SELECT * FROM people WHERE name LIKE 'a_c%'", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 28, message: /no '_'/ },
  { sql: "SELECT * FROM people WHERE age + 1 > 30", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 28, message: /operator \+ is not supported here/ },
  { sql: "SELECT * FROM people WHERE id IN (SELECT pid FROM orders)", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 28, message: /subqueries are not supported/ },
  { sql: "SELECT * FROM customers WHERE name = :n", code: "ERR_SQL_TABLE", line: 1, column: 15, message: /this view's table is "people", but the query reads "customers"/ },
  { sql: "SELECT * FROM people WHERE name = = 'x'", code: "ERR_SQL_SYNTAX", line: 1, column: 35, message: /syntax error near "="/ },
  { sql: "SELECT * FROM people WHERE age <> 3", code: "ERR_NO_INDEXABLE_CONDITION", line: 1, column: 22, message: /would scan the whole table/ },
  { sql: "SELECT * FROM people WHERE name = 'a' OR age <> 3", code: "ERR_NO_INDEXABLE_CONDITION", line: 1, column: 22, message: /every OR branch must be indexable/ },
  { sql: "SELECT * FROM people WHERE age > 3 ORDER BY name", code: "ERR_ORDER_NEEDS_INDEX", line: 1, column: 36, message: /add LIMIT n/ },
  { sql: "SELECT * FROM people ORDER BY age NULLS LAST", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 35, message: /NULLs sort first with ASC/ },
  { sql: "SELECT COUNT(*) FROM people WHERE age > 1 LIMIT 3", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 43, message: /LIMIT and OFFSET do not apply/ },
  { sql: "SELECT *, next_page_token() AS t FROM people LIMIT 3", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 1, message: /SELECT \* AS items, next_page_token\(\)/ },
  { sql: "SELECT * FROM people WHERE age > :a::int AND age < :a::text", code: "ERR_PARAM_CONFLICT", line: 1, column: 46, message: /parameter :a is used as string here but as integer/ },
  { sql: "SELECT * FROM people WHERE age = '5'::int", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 28, message: /casts are only supported on parameters/ },
  { sql: "SELECT * FROM people WHERE age > ALL(:xs)", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 34, message: /not supported/ },
  { sql: "SELECT * FROM people WHERE flag IS TRUE", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 28, message: /use = TRUE/ },
  { sql: "SELECT * FROM people LIMIT -1", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 22, message: /LIMIT needs a non-negative integer/ },
  { sql: "SELECT *\nFROM people\nWHERE name = 'a'\n  AND lower(city) = 'x'", code: "ERR_SQL_UNSUPPORTED", line: 4, column: 7, message: /function lower\(\) is not supported as a condition|not supported here/ },
  { sql: "DELETE FROM people", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 1, message: /only SELECT/ },
  { sql: "SELECT * FROM people; SELECT 1", code: "ERR_SQL_UNSUPPORTED", line: 1, column: 21, message: /one SQL statement/ },
];

for (const c of CASES) {
  t.test(c.sql.replace(/\n/g, " "), async (t) => {
    let err: unknown;
    try {
      compileView({ name: "people", table: "people", queries: { q: { sql: c.sql } } });
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ViewCompileError, "a ViewCompileError");
    const e = err as ViewCompileError;
    t.equal(e.code, c.code);
    t.equal(e.view, "people");
    t.equal(e.query, "q");
    t.same(e.position, { line: c.line, column: c.column });
    t.match(e.reason, c.message);
    t.match(e.message, new RegExp(`^view "people", query "q" \\(line ${c.line}, column ${c.column}\\): `));
  });
}

t.test("the supported subset compiles", async (t) => {
  const ok = [
    "SELECT * FROM people WHERE name = :name",
    "SELECT * AS items FROM people WHERE city = :c",
    "SELECT * AS items, next_page_token() AS next, has_more() AS more, total_count() AS total FROM people WHERE age > 1 ORDER BY age OFFSET page_token_offset(:tok) LIMIT 10",
    "SELECT COUNT(*) AS n FROM people WHERE city IN ('a', :b)",
    "SELECT name, address.city AS c FROM people p WHERE p.age BETWEEN 1 AND :x ORDER BY name DESC, age LIMIT :n OFFSET :o",
    "SELECT * FROM people WHERE :t = ANY(tags) AND NOT (age < 3 OR age IS NULL)",
    "SELECT * FROM people WHERE id = ANY(:ids::text[])",
    "SELECT * FROM people WHERE name LIKE :prefix",
    "SELECT * FROM people WHERE (name = 'a' OR name = 'b') AND age != 3",
    "SELECT * FROM people WHERE active ORDER BY name LIMIT 5",
    "SELECT * FROM people OFFSET 5 LIMIT 10",
  ];
  for (const sql of ok) t.doesNotThrow(() => compileView({ name: "people", table: "people", queries: { q: { sql } } }), sql);
});
