// Query-engine benchmark: point, range (ORDER BY + LIMIT) and IN query
// latency at 10,000 and 1,000,000 rows on the LMDB store, the same queries on
// SQLite (better-sqlite3, file, indexed) in the same run, and the write cost
// of each additional index.
//   node --import tsx bench/query/query.ts [--quick]
// --quick: 10,000 and 100,000 rows, fewer iterations. Results: stdout and
// bench/query/results/query.md (query-quick.md with --quick).
import Database from "better-sqlite3";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileView } from "../../src/query/compile-view.js";
import { buildIndexChunk } from "../../src/query/maintain/build-index.js";
import type { CompiledView, Row } from "../../src/query/types.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import type { Store } from "../../src/storage/store.js";

const quick = process.argv.includes("--quick");
const SIZES = quick ? [10_000, 100_000] : [10_000, 1_000_000];
const ITERATIONS = quick ? 2_000 : 5_000;
const LOAD_BATCH_ROWS = 5_000;
const CITIES = 1_000;

const QUERIES = {
  point: {
    calyx: "SELECT * FROM customers WHERE name = :name",
    sqlite: "SELECT * FROM customers WHERE name = :name",
  },
  range: {
    calyx: "SELECT * FROM customers WHERE age >= :age::int ORDER BY age LIMIT 20",
    sqlite: "SELECT * FROM customers WHERE age >= :age ORDER BY age, pk LIMIT 20",
  },
  in: {
    calyx: "SELECT * FROM customers WHERE city IN (:c1, :c2, :c3) ORDER BY score DESC LIMIT 20",
    sqlite: "SELECT * FROM customers WHERE city IN (:c1, :c2, :c3) ORDER BY score DESC, pk LIMIT 20",
  },
} as const;
type QueryName = keyof typeof QUERIES;

function customer(i: number): Row {
  return { name: `n${i}`, age: (i * 7919) % 100_000, city: `c${i % CITIES}`, score: (i * 104_729) % 1_000_003, email: `user${i}@example.com` };
}

function params(q: QueryName, n: number, k: number): Record<string, unknown> {
  const x = (k * 2_654_435_761) % n;
  switch (q) {
    case "point":
      return { name: `n${x}` };
    case "range":
      return { age: x % 99_000 };
    case "in":
      return { c1: `c${x % CITIES}`, c2: `c${(x + 1) % CITIES}`, c3: `c${(x + 2) % CITIES}` };
  }
}

interface Latency {
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

function measure(iterations: number, fn: (k: number) => number): Latency {
  const samples: number[] = [];
  let rows = 0;
  for (let k = 0; k < Math.min(200, iterations); k++) rows += fn(k); // warm-up
  for (let k = 0; k < iterations; k++) {
    const t0 = process.hrtime.bigint();
    rows += fn(k + 1000);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  if (rows === 0) throw new Error("benchmark queries returned no rows");
  samples.sort((a, b) => a - b);
  const at = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] as number;
  return { meanUs: samples.reduce((a, b) => a + b, 0) / samples.length, p50Us: at(0.5), p99Us: at(0.99) };
}

async function loadCalyx(store: Store, view: CompiledView, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i += LOAD_BATCH_ROWS) {
    await store.write((txn) => {
      for (let j = i; j < Math.min(n, i + LOAD_BATCH_ROWS); j++) view.applyRowChange(txn, `pk${j}`, customer(j));
    });
  }
  return (n / (performance.now() - t0)) * 1000;
}

function loadSqlite(db: Database.Database, n: number): number {
  db.exec("CREATE TABLE customers (pk TEXT PRIMARY KEY, name TEXT, age INTEGER, city TEXT, score INTEGER, email TEXT)");
  db.exec("CREATE INDEX by_name ON customers(name); CREATE INDEX by_age ON customers(age, pk); CREATE INDEX by_city ON customers(city, score DESC, pk)");
  const ins = db.prepare("INSERT INTO customers VALUES (@pk, @name, @age, @city, @score, @email)");
  const t0 = performance.now();
  const batch = db.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) ins.run({ pk: `pk${j}`, ...customer(j) });
  });
  for (let i = 0; i < n; i += LOAD_BATCH_ROWS) batch(i, Math.min(n, i + LOAD_BATCH_ROWS));
  return (n / (performance.now() - t0)) * 1000;
}

/** Rows/s to build a new index over the stored rows (chunks of LOAD_BATCH_ROWS per write transaction). */
async function buildIndex(store: Store): Promise<number> {
  const extra = compileView({ name: "customers", table: "customers", queries: { byEmail: { sql: "SELECT * FROM customers WHERE email = :e" } } });
  const index = extra.indexes[0]!;
  let after: string | null = null;
  let rows = 0;
  const t0 = performance.now();
  do {
    const p = await store.write((txn) => buildIndexChunk(txn, index, after, LOAD_BATCH_ROWS));
    rows += p.rows;
    after = p.lastPk;
  } while (after !== null);
  return (rows / (performance.now() - t0)) * 1000;
}

interface SizeResult {
  n: number;
  build: number;
  loadCalyx: number;
  loadSqlite: number;
  queries: Record<QueryName, { calyx: Latency; sqlite: Latency }>;
}

async function runSize(n: number, dir: string): Promise<SizeResult> {
  const view = compileView({ name: "customers", table: "customers", queries: Object.fromEntries(Object.entries(QUERIES).map(([k, q]) => [k, { sql: q.calyx }])) });
  const store = openLmdbStore({ path: join(dir, `lmdb-${n}`), durability: "none" });
  const db = new Database(join(dir, `sqlite-${n}.db`));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const loadC = await loadCalyx(store, view, n);
  const loadS = loadSqlite(db, n);
  const build = await buildIndex(store);
  const queries = {} as SizeResult["queries"];
  for (const name of Object.keys(QUERIES) as QueryName[]) {
    const q = view.queries[name]!;
    const stmt = db.prepare(QUERIES[name].sqlite);
    const calyx = measure(ITERATIONS, (k) => store.read((txn) => {
      let c = 0;
      for (const row of q.execute(txn, params(name, n, k))) if (row !== undefined) c++;
      return c;
    }));
    const sqlite = measure(ITERATIONS, (k) => stmt.all(params(name, n, k)).length);
    queries[name] = { calyx, sqlite };
  }
  db.close();
  await store.close();
  return { n, build, loadCalyx: loadC, loadSqlite: loadS, queries };
}

/** µs per row write for views with 0..4 indexes (each query adds one index). */
async function writeCost(dir: string): Promise<{ indexes: number; usPerRow: number }[]> {
  const sqls = [
    "SELECT * FROM customers WHERE name = :a",
    "SELECT * FROM customers WHERE age = :a",
    "SELECT * FROM customers WHERE city = :a ORDER BY score",
    "SELECT * FROM customers WHERE email LIKE :a",
  ];
  const rows = quick ? 20_000 : 100_000;
  const out: { indexes: number; usPerRow: number }[] = [];
  const configs = [0, ...Array.from({ length: sqls.length + 1 }, (_, k) => k)]; // the first run warms the JIT and is dropped
  for (const [run, k] of configs.entries()) {
    const view = compileView({ name: "customers", table: "customers", queries: Object.fromEntries(sqls.slice(0, k).map((sql, i) => [`q${i}`, { sql }])) });
    rmSync(join(dir, `write-${k}`), { recursive: true, force: true });
    const store = openLmdbStore({ path: join(dir, `write-${k}`), durability: "none" });
    await loadCalyx(store, view, rows); // insert
    const t0 = performance.now();
    for (let i = 0; i < rows; i += LOAD_BATCH_ROWS) {
      await store.write((txn) => {
        for (let j = i; j < Math.min(rows, i + LOAD_BATCH_ROWS); j++) view.applyRowChange(txn, `pk${j}`, { ...customer(j + 1), name: `m${j}` }); // update: every index entry moves
      });
    }
    if (run > 0) out.push({ indexes: view.indexes.length, usPerRow: ((performance.now() - t0) * 1000) / rows });
    await store.close();
    rmSync(join(dir, `write-${k}`), { recursive: true, force: true });
  }
  return out;
}

const f = (x: number, d = 1): string => x.toFixed(d);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "calyx-bench-query-"));
  try {
    const lines: string[] = [`# Query engine benchmark${quick ? " (--quick)" : ""}`, "", `${new Date().toISOString()}, Node ${process.version}, ${ITERATIONS} queries per cell, one read transaction per query, LMDB durability none; SQLite file, WAL, indexed.`, ""];
    lines.push("| rows | query | Calyx mean µs | Calyx p50 / p99 µs | SQLite mean µs | SQLite p50 / p99 µs | Calyx / SQLite (p50) |", "|---:|---|---:|---:|---:|---:|---:|");
    const loads: string[] = [];
    for (const n of SIZES) {
      const r = await runSize(n, dir);
      for (const [name, { calyx, sqlite }] of Object.entries(r.queries)) {
        lines.push(`| ${n.toLocaleString("en")} | ${name} | ${f(calyx.meanUs)} | ${f(calyx.p50Us)} / ${f(calyx.p99Us)} | ${f(sqlite.meanUs)} | ${f(sqlite.p50Us)} / ${f(sqlite.p99Us)} | ${f(calyx.p50Us / sqlite.p50Us, 2)} |`);
      }
      loads.push(`| ${n.toLocaleString("en")} | ${Math.round(r.loadCalyx).toLocaleString("en")} | ${Math.round(r.loadSqlite).toLocaleString("en")} | ${Math.round(r.build).toLocaleString("en")} |`);
      console.error(`done ${n} rows`);
    }
    lines.push("", "Bulk load (rows/s, batches of 5,000 rows, 3 indexes each side) and building one new index over the stored rows (rows/s, 5,000 rows per transaction):", "", "| rows | Calyx load | SQLite load | Calyx index build |", "|---:|---:|---:|---:|", ...loads);
    const wc = await writeCost(dir);
    lines.push("", "Write cost per additional index (row updates that move every index entry, batches of 5,000):", "", "| indexes | µs per row | + vs previous |", "|---:|---:|---:|");
    wc.forEach((w, i) => lines.push(`| ${w.indexes} | ${f(w.usPerRow, 2)} | ${i === 0 ? "" : f(w.usPerRow - (wc[i - 1] as { usPerRow: number }).usPerRow, 2)} |`));
    const md = `${lines.join("\n")}\n`;
    console.log(md);
    mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
    writeFileSync(new URL(`./results/query${quick ? "-quick" : ""}.md`, import.meta.url), md);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
