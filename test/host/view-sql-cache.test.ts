// The view SQL cache (src/host/view-sql-cache.ts): a parse read back from it
// is the parse the compiler makes (differential, over a corpus of queries),
// it is read only by the same build, and a missing, damaged, stale or
// unwritable file costs a parse, never an error.
import t from "tap";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileView } from "../../src/query/compile-view.js";
import { forgetParses, knownParse, parseQuery, rememberParse, type ParsedQuery } from "../../src/query/parse/parse-query.js";
import { ViewSqlCache, VIEW_SQL_CACHE_FILE } from "../../src/host/view-sql-cache.js";
import type { Manifest } from "../../src/host/messages.js";

const CORPUS = [
  "SELECT * FROM t WHERE name = :name",
  "SELECT * FROM t WHERE age >= :min AND age < :max ORDER BY age DESC, name LIMIT 20",
  "SELECT name, address.city AS city FROM t WHERE address.city = :city",
  "SELECT * FROM t WHERE name LIKE :prefix ORDER BY name",
  "SELECT * FROM t WHERE tags = ANY(:tags)",
  "SELECT * FROM t WHERE status IN ('open', 'held') AND vip = true",
  "SELECT * FROM t WHERE score > -1.5 AND email IS NOT NULL",
  "SELECT * FROM t WHERE age = :age::int",
  "SELECT * AS items, next_page_token() AS next, has_more() AS more FROM t WHERE name >= :from ORDER BY name OFFSET page_token_offset(:page) LIMIT 10",
  "SELECT COUNT(*) AS n FROM t WHERE status = :s",
  "SELECT * FROM t ORDER BY name LIMIT :n OFFSET :skip",
  "SELECT * FROM t WHERE note = 'it''s ünïcode ✓'",
];

function manifestOf(sqls: readonly string[], table = "t"): Manifest["views"] {
  return [{ name: "v", table, file: "src/v.ts", queries: sqls.map((sql, i) => ({ name: `q${i}`, sql })) }] as unknown as Manifest["views"];
}

function compileAll(sqls: readonly string[]): void {
  compileView({ name: "v", table: "t", queries: Object.fromEntries(sqls.map((sql, i) => [`q${i}`, { sql }])) });
}

t.test("a parse read back is the parse the compiler makes, for every query of the corpus", async (t) => {
  const dir = t.testdir();
  forgetParses();
  compileAll(CORPUS);
  const fresh = new Map(CORPUS.map((sql) => [sql, knownParse("t", sql)]));
  ViewSqlCache.open(dir, {}, "build-1").store(manifestOf(CORPUS));
  forgetParses();
  t.equal(ViewSqlCache.open(dir, {}, "build-1").seed(), CORPUS.length);
  for (const sql of CORPUS) {
    const cached = knownParse("t", sql);
    t.ok(cached !== undefined && cached !== fresh.get(sql), `seeded, not the object parsed above: ${sql}`);
    t.same(cached, fresh.get(sql), sql);
    t.ok(Object.isFrozen(cached?.select) && Object.isFrozen(cached?.params), "frozen like the parser's IR");
  }
  // The compiler takes them instead of parsing.
  t.doesNotThrow(() => compileAll(CORPUS));
  t.equal(parseQuery("v", "q0", "t", CORPUS[0] as string), knownParse("t", CORPUS[0] as string));
  forgetParses();
});

t.test("another build, CALYX_VIEW_SQL_CACHE=0 or no build (from source): nothing is read or written", async (t) => {
  const dir = t.testdir();
  forgetParses();
  compileAll(CORPUS.slice(0, 3));
  ViewSqlCache.open(dir, {}, "build-1").store(manifestOf(CORPUS.slice(0, 3)));
  const written = readFileSync(join(dir, VIEW_SQL_CACHE_FILE), "utf8");
  forgetParses();
  t.equal(ViewSqlCache.open(dir, {}, "build-2").seed(), 0, "a parse of another compiler is never used");
  t.equal(ViewSqlCache.open(dir, { CALYX_VIEW_SQL_CACHE: "0" }, "build-1").seed(), 0);
  t.equal(ViewSqlCache.open(dir, {}, undefined).seed(), 0);
  compileAll(CORPUS.slice(0, 3));
  ViewSqlCache.open(dir, { CALYX_VIEW_SQL_CACHE: "0" }, "build-1").store(manifestOf(CORPUS.slice(0, 1)));
  ViewSqlCache.open(dir, {}, undefined).store(manifestOf(CORPUS.slice(0, 1)));
  t.equal(readFileSync(join(dir, VIEW_SQL_CACHE_FILE), "utf8"), written, "left as it was");
  forgetParses();
});

t.test("the file holds exactly the current views' queries and is written only when that changes", async (t) => {
  const dir = t.testdir();
  const file = join(dir, VIEW_SQL_CACHE_FILE);
  forgetParses();
  compileAll(CORPUS);
  ViewSqlCache.open(dir, {}, "b").store(manifestOf(CORPUS.slice(0, 4)));
  const ino = statSync(file).ino;
  ViewSqlCache.open(dir, {}, "b").store(manifestOf(CORPUS.slice(0, 4)));
  t.equal(statSync(file).ino, ino, "same queries: not rewritten");
  ViewSqlCache.open(dir, {}, "b").store(manifestOf(CORPUS.slice(2, 5)));
  t.not(statSync(file).ino, ino, "a changed query set is written (atomically, a new file)");
  const entries = (JSON.parse(readFileSync(file, "utf8")) as { entries: { sql: string }[] }).entries.map((e) => e.sql);
  t.same(entries, CORPUS.slice(2, 5), "old queries dropped");
  forgetParses();
});

t.test("a parse that would not come back the same through JSON is not written", async (t) => {
  const dir = t.testdir();
  forgetParses();
  const odd = { select: { kind: "select", limit: { kind: "literal", value: -0 } }, params: [] } as unknown as ParsedQuery;
  rememberParse("t", "SELECT odd", odd);
  compileAll(CORPUS.slice(0, 1));
  ViewSqlCache.open(dir, {}, "b").store(manifestOf(["SELECT odd", CORPUS[0] as string]));
  const entries = (JSON.parse(readFileSync(join(dir, VIEW_SQL_CACHE_FILE), "utf8")) as { entries: { sql: string }[] }).entries.map((e) => e.sql);
  t.same(entries, [CORPUS[0]]);
  forgetParses();
});

t.test("a damaged file costs a parse and is replaced; an unwritable folder is not an error", async (t) => {
  const dir = t.testdir({
    junk: { [VIEW_SQL_CACHE_FILE]: "{not json" },
    shapes: { [VIEW_SQL_CACHE_FILE]: JSON.stringify({ format: "1/b", entries: [{ table: 1 }, null, { table: "t", sql: "x", parsed: { select: {}, params: "no" } }] }) },
    blocked: { [VIEW_SQL_CACHE_FILE]: { "a folder.txt": "" } },
  });
  forgetParses();
  t.equal(ViewSqlCache.open(join(dir, "junk"), {}, "b").seed(), 0);
  t.equal(ViewSqlCache.open(join(dir, "shapes"), {}, "b").seed(), 0, "entries of the wrong shape are skipped");
  compileAll(CORPUS.slice(0, 2));
  ViewSqlCache.open(join(dir, "junk"), {}, "b").store(manifestOf(CORPUS.slice(0, 2)));
  t.doesNotThrow(() => JSON.parse(readFileSync(join(dir, "junk", VIEW_SQL_CACHE_FILE), "utf8")), "rewritten as valid JSON");
  forgetParses();
  t.equal(ViewSqlCache.open(join(dir, "junk"), {}, "b").seed(), 2);
  t.doesNotThrow(() => ViewSqlCache.open(join(dir, "blocked"), {}, "b").store(manifestOf(CORPUS.slice(0, 2))));
  forgetParses();
});

t.test("parses are kept per table and SQL text; errors are not kept", async (t) => {
  forgetParses();
  const a = parseQuery("v", "q", "t", CORPUS[0] as string);
  t.equal(parseQuery("other", "name", "t", CORPUS[0] as string), a, "same table and text: the same parse");
  t.throws(() => parseQuery("v", "q", "u", CORPUS[0] as string), { code: "ERR_SQL_TABLE" }, "another table: parsed (and refused) on its own");
  t.throws(() => parseQuery("v", "q", "t", "SELECT * FROM t WHERE"), { code: "ERR_SQL_SYNTAX" });
  t.equal(knownParse("t", "SELECT * FROM t WHERE"), undefined);
  t.throws(() => parseQuery("v2", "q2", "t", "SELECT * FROM t WHERE"), { message: /view "v2", query "q2"/ }, "the error names the view asking");
  forgetParses();
});
