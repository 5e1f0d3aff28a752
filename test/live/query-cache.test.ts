// The query result cache (src/live/query-cache.ts): what it keeps, what a
// commit drops and when, and a randomized check that every answer it gives
// equals the query's answer at that moment, with fills and commits
// interleaved the ways the threads can interleave them.
import t from "tap";
import { QueryCache, QueryFill } from "../../src/live/query-cache.js";
import type { Row } from "../../src/query/types.js";
import { Random } from "../query/oracle/random.js";
import { compilableQueries, type GenQuery } from "../query/oracle/gen-query.js";
import { randomRow, randomSchema, randomValue, TAGS } from "../query/oracle/schema.js";
import { FakeSource, type ViewSpec } from "./helpers/fake-source.js";

const CUSTOMERS: ViewSpec = {
  name: "c",
  table: "customers",
  queries: {
    byName: "SELECT * FROM customers WHERE name = :name",
    older: "SELECT * FROM customers WHERE age > :age ORDER BY age",
    firstThree: "SELECT * FROM customers ORDER BY name LIMIT 3",
    top: "SELECT * FROM customers WHERE name = :name LIMIT :n",
  },
};

function setup(maxBytes = 1 << 20): { src: FakeSource; cache: QueryCache; ask(q: string, params?: Record<string, unknown>, variant?: string): string | QueryFill | undefined; answer(q: string, params?: Record<string, unknown>): string } {
  const src = new FakeSource([CUSTOMERS]);
  const cache = new QueryCache(src, { maxBytes });
  cache.start();
  const ask = (q: string, params: Record<string, unknown> = {}, variant = "j"): string | QueryFill | undefined => {
    const view = src.view("c");
    const query = view?.queries[q];
    if (view === undefined || query === undefined) throw new Error(`no query ${q}`);
    return cache.lookup(view, query, params, variant);
  };
  const answer = (q: string, params: Record<string, unknown> = {}): string => JSON.stringify(src.query("c", q, params));
  return { src, cache, ask, answer };
}

const put = (pk: string, name: string, age: number): { view: string; pk: string; row: Row } => ({ view: "c", pk, row: { id: pk, name, age } });

/** Looks the query up and fills it with its current answer; returns that answer. */
function cached(s: ReturnType<typeof setup>, q: string, params: Record<string, unknown> = {}): string {
  const found = s.ask(q, params);
  if (!(found instanceof QueryFill)) throw new Error(`expected a miss for ${q}, got ${String(found)}`);
  const body = s.answer(q, params);
  s.cache.fill(found, body);
  return body;
}

t.test("an answer is kept until a commit changes a row that passes its WHERE", async (t) => {
  const s = setup();
  s.src.commit([put("a", "Ann", 30), put("b", "Bob", 40)]);
  const ann = cached(s, "byName", { name: "Ann" });
  t.equal(s.ask("byName", { name: "Ann" }), ann, "a second lookup is a hit");
  t.type(s.ask("byName", { name: "Ann" }, "n"), QueryFill, "another encoding (NDJSON) is another entry");

  s.src.commit([put("b", "Bob", 41)]);
  t.equal(s.ask("byName", { name: "Ann" }), ann, "a change to Bob leaves Ann's answer");

  s.src.commit([put("c", "Ann", 50)]);
  t.type(s.ask("byName", { name: "Ann" }), QueryFill, "a row that now passes the WHERE drops it");
  cached(s, "byName", { name: "Ann" });
  s.src.commit([put("a", "Zed", 30)]);
  t.type(s.ask("byName", { name: "Ann" }), QueryFill, "a row that no longer passes drops it");
  cached(s, "byName", { name: "Ann" });
  s.src.commit([{ view: "c", pk: "c", row: null }]);
  t.type(s.ask("byName", { name: "Ann" }), QueryFill, "a deleted row drops it");
  const st = s.cache.stats();
  t.equal(st.invalidations, 4, "three answers and the NDJSON placeholder");
  t.equal(st.stores, 3);
  t.equal(st.hits, 2);
});

t.test("one commit over two tables drops the answers of both, and keeps neither while it syncs", async (t) => {
  const ORDERS: ViewSpec = { name: "o", table: "orders", queries: { byCustomer: "SELECT * FROM orders WHERE customer = :customer" } };
  const src = new FakeSource([CUSTOMERS, ORDERS]);
  const cache = new QueryCache(src, { maxBytes: 1 << 20 });
  cache.start();
  const ask = (v: string, q: string, params: Record<string, unknown>): string | QueryFill | undefined => {
    const view = src.view(v);
    const query = view?.queries[q];
    if (view === undefined || query === undefined) throw new Error(`no query ${v}.${q}`);
    return cache.lookup(view, query, params, "j");
  };
  const keep = (v: string, q: string, params: Record<string, unknown>): void => {
    cache.fill(ask(v, q, params) as QueryFill, JSON.stringify(src.query(v, q, params)));
  };
  src.commit([put("a", "Ann", 30), { view: "o", pk: "o1", row: { id: "o1", customer: "a" } }]);
  keep("c", "byName", { name: "Ann" });
  keep("o", "byCustomer", { customer: "a" });
  src.commit([put("a", "Ann", 31), { view: "o", pk: "o2", row: { id: "o2", customer: "a" } }]);
  t.type(ask("c", "byName", { name: "Ann" }), QueryFill, "the first table's answer dropped");
  t.type(ask("o", "byCustomer", { customer: "a" }), QueryFill, "and the second table's");

  keep("c", "byName", { name: "Ann" });
  const during = src.begin([put("b", "Bob", 40), { view: "o", pk: "o3", row: { id: "o3", customer: "a" } }]);
  const o = ask("o", "byCustomer", { customer: "a" }) as QueryFill;
  cache.fill(o, "[]");
  t.type(ask("o", "byCustomer", { customer: "a" }), QueryFill, "an answer of the second table the syncing commit touches is not kept");
  t.type(ask("c", "byName", { name: "Ann" }), "string", "one of the first table it does not touch stays");
  during.settle(true);
});

t.test("only queries routed by equality are cached", async (t) => {
  const s = setup();
  s.src.commit([put("a", "Ann", 30), put("b", "Bob", 40)]);
  t.equal(s.ask("older", { age: 35 }), undefined, "a range: most writes would drop its answers");
  t.equal(s.ask("firstThree"), undefined, "no usable WHERE: every write would");
  t.type(s.ask("top", { name: "Ann", n: 2 }), QueryFill, "equality with a LIMIT is");
  t.equal(s.cache.stats().entries, 1);
});

t.test("a placeholder filed while a commit syncs is dropped when it settles", async (t) => {
  const s = setup();
  s.src.commit([put("a", "Ann", 30)]);
  const before = s.ask("byName", { name: "Ann" }) as QueryFill;
  const staleBody = s.answer("byName", { name: "Ann" });
  const inFlight = s.src.begin([put("a", "Ann", 31)]);
  s.cache.fill(before, staleBody);
  t.type(s.ask("byName", { name: "Ann" }), QueryFill, "an answer whose placeholder the prepare dropped is not kept");

  // Filed between prepare and settle; its read saw the store before the commit.
  const during = s.ask("byName", { name: "Ann" });
  t.type(during, QueryFill);
  s.cache.fill(during as QueryFill, staleBody);
  t.type(s.ask("byName", { name: "Ann" }), QueryFill, "an answer the syncing commit touches is not kept");
  const bob = s.ask("byName", { name: "Bob" }) as QueryFill;
  s.cache.fill(bob, "[]");
  t.equal(s.ask("byName", { name: "Bob" }), "[]", "one it does not touch is");
  inFlight.settle(true);
  const after = s.ask("byName", { name: "Ann" });
  t.type(after, QueryFill, "settle drops the placeholders filed while it synced");
  s.cache.fill(after as QueryFill, s.answer("byName", { name: "Ann" }));
  t.same(JSON.parse(s.ask("byName", { name: "Ann" }) as string), [{ id: "a", name: "Ann", age: 31 }]);

  // Filled after the commit became readable but before the main thread settled it.
  const racing = s.src.begin([put("a", "Ann", 32)]);
  const p = s.ask("byName", { name: "Ann" }) as QueryFill;
  racing.settle(true, () => s.cache.fill(p, s.answer("byName", { name: "Ann" })));
  t.type(s.ask("byName", { name: "Ann" }), QueryFill, "dropped at settle too (the second pass does not know which read saw what)");

  // A failed commit changes nothing, but what its prepare dropped stays dropped.
  cached(s, "byName", { name: "Ann" });
  s.src.begin([put("a", "Ann", 99)]).settle(false);
  t.type(s.ask("byName", { name: "Ann" }), QueryFill);
});

t.test("a hot reload clears the cache, and an answer computed before it is not kept", async (t) => {
  const s = setup();
  s.src.commit([put("a", "Ann", 30)]);
  cached(s, "byName", { name: "Ann" });
  const pending = s.ask("byName", { name: "Bob" }) as QueryFill;
  s.src.reload([CUSTOMERS]);
  s.cache.fill(pending, "[]");
  t.equal(s.cache.stats().entries, 0);
  t.type(s.ask("byName", { name: "Ann" }), QueryFill);
  t.type(s.ask("byName", { name: "Bob" }), QueryFill);
});

t.test("a table being built is not cached, and its answers are dropped", async (t) => {
  const s = setup();
  s.src.commit([put("a", "Ann", 30)]);
  cached(s, "byName", { name: "Ann" });
  s.src.buildingTables.add("customers");
  t.equal(s.ask("byName", { name: "Ann" }), undefined);
  s.src.buildingTables.delete("customers");
  t.type(s.ask("byName", { name: "Ann" }), QueryFill, "after the build the answer is read again");
});

t.test("the budget evicts the least recently used answers; too large or declined answers are not kept", async (t) => {
  const s = setup(3_000);
  s.src.commit([put("a", "Ann", 30), put("b", "Bob", 40), put("c", "Cid", 50), put("d", "Dee", 60)]);
  const ann = cached(s, "byName", { name: "Ann" });
  cached(s, "byName", { name: "Bob" });
  cached(s, "byName", { name: "Cid" });
  t.equal(s.ask("byName", { name: "Ann" }), ann, "Ann is used again");
  for (let i = 0; i < 10 && s.cache.stats().evictions === 0; i++) cached(s, "byName", { name: `N${i}` });
  t.ok(s.cache.stats().evictions > 0, "the budget was reached");
  t.type(s.ask("byName", { name: "Bob" }), QueryFill, "Bob, the least recently used, went first");
  t.ok(s.cache.stats().bytes <= 3_000);

  const big = s.ask("byName", { name: "Dee" }) as QueryFill;
  s.cache.fill(big, "x".repeat(3_000 / 16 + 1));
  t.type(s.ask("byName", { name: "Dee" }), QueryFill, "an answer over a sixteenth of the budget is not kept");
  const declined = s.ask("byName", { name: "Zed" }) as QueryFill;
  const entries = s.cache.stats().entries;
  s.cache.fill(declined, null);
  t.equal(s.cache.stats().entries, entries - 1, "a declined query leaves no placeholder");
});

t.test("parameters the query rejects are not cached (its own error answers)", async (t) => {
  const s = setup();
  t.equal(s.ask("top", { name: "Ann", n: "many" }), undefined);
  t.type(s.ask("top", { name: "Ann", n: "2" }), QueryFill, "the HTTP string of a number is converted");
  t.type(s.ask("top", { name: "Ann", n: 2 }), QueryFill, "and shares the entry of the number");
  t.equal(s.cache.stats().entries, 1);
});

t.test("stop() stops listening and empties the cache", async (t) => {
  const s = setup();
  s.src.commit([put("a", "Ann", 30)]);
  cached(s, "byName", { name: "Ann" });
  s.cache.stop();
  t.equal(s.cache.stats().entries, 0);
  s.src.commit([put("a", "Ann", 31)]); // no listener left: nothing throws
  t.equal(s.cache.stats().bytes, 0);
});

// THE ORACLE: random queries over random rows; lookups, fills and commits
// interleaved as the threads can interleave them (a worker's read before a
// commit, while it syncs, after it is readable but before the main thread
// settles it; answers delivered late, after other commits; failed commits;
// reloads). Every hit must be the query's answer at that moment: after a
// settle, while it syncs and once it is readable: the store's answer at that
// moment (never one from before a commit another reader may already see).
// Longer runs: CACHE_SEEDS=2000 npx tap test/live/query-cache.test.ts
const SEEDS = Number(process.env["CACHE_SEEDS"] ?? 200);

t.test(`every hit equals the query's answer at that moment (${SEEDS} random seeds)`, async (t) => {
  const stats = { hits: 0, windowHits: 0, invalidations: 0, stores: 0, commits: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = new Random(seed * 104729 + 7);
    const schema = randomSchema(r);
    const found = compilableQueries(r, schema, "t", 5, 30);
    const gens = new Map<string, GenQuery>([...found].map(([name, q]) => [name, q.gen]));
    const queries: Record<string, string> = Object.fromEntries([...found].map(([name, q]) => [name, q.sql]));
    const spec: ViewSpec = { name: "v", table: "t", queries };
    const src = new FakeSource([spec]);
    const cache = new QueryCache(src, { maxBytes: r.pick([2_000, 20_000, 1 << 20]) });
    cache.start();
    // A few parameter sets per query, so entries share routing keys and differ.
    const asks: { name: string; params: Record<string, unknown> }[] = [];
    for (const [name, gen] of gens) {
      asks.push({ name, params: gen.params });
      for (let i = r.int(1, 3); i > 0; i--) {
        asks.push({ name, params: Object.fromEntries(Object.entries(gen.params).map(([k, v]) => [k, typeof v === "string" && !v.includes("%") ? (r.chance(0.3) ? r.pick(TAGS) : randomValue(r, "text")) : v])) });
      }
    }
    const answer = (a: (typeof asks)[number]): string | null => {
      try {
        return JSON.stringify(src.query("v", a.name, a.params));
      } catch {
        return null; // the query rejects these parameters: a worker declines
      }
    };
    /** Answers computed by "workers", waiting to be delivered. */
    const reads: { fill: QueryFill; body: string | null }[] = [];
    /** Where the commit in flight is: "syncing" (prepared, not readable), "visible" (readable, not yet settled). */
    let phase: "idle" | "syncing" | "visible" = "idle";
    const keys = r.int(4, 20);
    const lookup = (): void => {
      const a = r.pick(asks);
      const view = src.view("v");
      const query = view?.queries[a.name];
      if (view === undefined || query === undefined) return;
      const found = cache.lookup(view, query, a.params, "j");
      if (typeof found === "string") {
        const now = answer(a);
        if (phase === "idle") stats.hits++;
        else stats.windowHits++;
        if (found !== now) throw new Error(`seed ${seed} (${phase}): a hit differs from the answer now\n${JSON.stringify({ sql: query.sql, params: a.params, cached: found, now })}`);
      } else if (found !== undefined) {
        // The worker's read happens now or later (when this read is delivered it may be old).
        reads.push({ fill: found, body: answer(a) });
      }
    };
    const deliver = (): void => {
      if (reads.length === 0) return;
      const i = r.int(0, reads.length - 1);
      const [read] = reads.splice(i, 1);
      if (read !== undefined) cache.fill(read.fill, read.body);
    };
    const randomWrites = (): { view: string; pk: string; row: Row | null }[] => {
      const writes: { view: string; pk: string; row: Row | null }[] = [];
      for (let i = r.int(1, 4); i > 0; i--) {
        const pk = `k${r.int(0, keys - 1)}`;
        writes.push({ view: "v", pk, row: r.chance(0.2) ? null : { ...randomRow(r, schema), id: pk } });
      }
      return writes;
    };
    const step = (): void => {
      for (let i = r.int(0, 4); i > 0; i--) lookup();
      for (let i = r.int(0, 2); i > 0; i--) deliver();
    };
    for (let n = r.int(20, 60); n > 0; n--) {
      step();
      if (r.chance(0.03)) src.reload([spec]);
      if (r.chance(0.05)) src.buildingTables.add("t");
      else src.buildingTables.delete("t");
      const writes = randomWrites();
      const inFlight = src.begin(writes);
      phase = "syncing";
      step();
      stats.commits++;
      inFlight.settle(!r.chance(0.1), () => {
        // Readable, not yet settled on the main thread: workers may read it and deliver.
        phase = "visible";
        for (let i = r.int(0, 3); i > 0; i--) lookup();
        for (let i = r.int(0, 2); i > 0; i--) deliver();
      });
      phase = "idle";
      step();
    }
    const st = cache.stats();
    stats.invalidations += st.invalidations;
    stats.stores += st.stores;
    if (st.bytes < 0 || st.entries < 0) throw new Error(`seed ${seed}: negative size ${JSON.stringify(st)}`);
    if ((st.entries === 0) !== (st.bytes === 0)) throw new Error(`seed ${seed}: entries and bytes disagree ${JSON.stringify(st)}`);
  }
  t.ok(stats.hits > SEEDS * 5, `hits checked: ${JSON.stringify(stats)}`);
  t.ok(stats.windowHits > 0 && stats.invalidations > 0 && stats.stores > 0, JSON.stringify(stats));
});
