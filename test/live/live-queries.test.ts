// Behaviour of live queries, one case per rule: WHERE enter/change/leave,
// windows, sharing, routing cost, coalescing, resume, reload, errors.
import t from "tap";
import { LiveQueries } from "../../src/live/live-queries.js";
import { FakeSource, type ViewSpec } from "./helpers/fake-source.js";
import { Recorder } from "./helpers/recorder.js";
import { Waiter } from "./helpers/e2e.js";

const PEOPLE: ViewSpec = {
  name: "people", table: "people",
  queries: {
    byCity: "SELECT * FROM people WHERE city = :city",
    youngest: "SELECT name, age FROM people WHERE city = :city ORDER BY age LIMIT 2",
    page2: "SELECT * FROM people WHERE city = :city ORDER BY age LIMIT 2 OFFSET 1",
    ageRange: "SELECT * FROM people WHERE age >= :lo AND age < :hi",
    prefix: "SELECT * FROM people WHERE name LIKE :p",
    one: { sql: "SELECT * FROM people WHERE name = :name", result: "single" },
    paged: "SELECT * AS items, next_page_token() AS next FROM people WHERE city = :city ORDER BY age OFFSET page_token_offset(:tok) LIMIT 2",
    count: "SELECT COUNT(*) AS n FROM people WHERE city = :city",
  },
};

function setup(limits = {}): { source: FakeSource; live: LiveQueries; sub: (query: string, params: Record<string, unknown>) => Recorder; put: (pk: string, row: Record<string, unknown> | null) => void } {
  const source = new FakeSource([PEOPLE]);
  const live = new LiveQueries(source, { resumeGraceMs: 60_000, ...limits });
  live.start();
  const sub = (query: string, params: Record<string, unknown>): Recorder => {
    const r = new Recorder();
    return r.begin(live.subscribe({ view: "people", query, params }, r));
  };
  const put = (pk: string, row: Record<string, unknown> | null): void => {
    source.commit([{ view: "people", pk, row: row === null ? null : { id: pk, ...row } }]);
  };
  return { source, live, sub, put };
}

t.test("WHERE: a row enters, changes within, and leaves the result", async (t) => {
  const { sub, put, live } = setup();
  const oslo = sub("byCity", { city: "Oslo" });
  t.same(oslo.keys(), []);
  put("p1", { name: "Ann", city: "Oslo", age: 30 });
  t.same(oslo.changes.at(-1)?.ops, [{ op: "add", key: "p1", index: 0, row: { id: "p1", name: "Ann", city: "Oslo", age: 30 } }]);
  put("p1", { name: "Ann", city: "Oslo", age: 31 });
  t.same(oslo.changes.at(-1)?.ops, [{ op: "update", key: "p1", index: 0, row: { id: "p1", name: "Ann", city: "Oslo", age: 31 } }]);
  put("p2", { name: "Bob", city: "Rome", age: 20 });
  t.equal(oslo.changes.length, 2, "a row outside the result sends nothing");
  put("p1", { name: "Ann", city: "Rome", age: 31 });
  t.same(oslo.changes.at(-1)?.ops, [{ op: "remove", key: "p1" }]);
  t.same(oslo.changes.map((c) => c.seq), [1, 2, 3], "one seq per change message");
  put("p1", null);
  t.equal(oslo.changes.length, 3);
  t.equal(live.stats().pipelines, 1);
});

t.test("ORDER BY + LIMIT: a row leaving a full window pulls the next; a row entering pushes the last out", async (t) => {
  const { sub, put } = setup();
  for (const [pk, age] of [["a", 10], ["b", 20], ["c", 30], ["d", 40]] as const) put(pk, { name: pk, city: "Oslo", age });
  const top = sub("youngest", { city: "Oslo" });
  t.same(top.result.rows, [{ name: "a", age: 10 }, { name: "b", age: 20 }], "projected rows, in order");
  put("a", null);
  t.same(top.changes.at(-1)?.ops, [{ op: "remove", key: "a" }, { op: "add", key: "c", index: 1, row: { name: "c", age: 30 } }], "c is read from the index");
  put("e", { name: "e", city: "Oslo", age: 5 });
  t.same(top.changes.at(-1)?.ops, [{ op: "remove", key: "c" }, { op: "add", key: "e", index: 0, row: { name: "e", age: 5 } }]);
  put("d", { name: "d", city: "Oslo", age: 1 });
  t.same(top.keys(), ["d", "e"], "d moves from outside to the top");
  put("e", { name: "e", city: "Oslo", age: 99 });
  t.same(top.keys(), ["d", "b"], "e moves out: b comes back");
  t.same(top.changes.at(-1)?.ops, [{ op: "remove", key: "e" }, { op: "add", key: "b", index: 1, row: { name: "b", age: 20 } }]);
  put("d", { name: "d", city: "Oslo", age: 25 });
  t.same(top.changes.at(-1)?.ops, [{ op: "update", key: "d", index: 1, row: { name: "d", age: 25 } }], "a move within the window is an update with its new index");
  t.same(top.keys(), ["b", "d"]);
});

t.test("OFFSET: rows shift into and out of a window without changing", async (t) => {
  const { sub, put } = setup();
  for (const [pk, age] of [["a", 10], ["b", 20], ["c", 30], ["d", 40]] as const) put(pk, { name: pk, city: "Oslo", age });
  const page = sub("page2", { city: "Oslo" });
  t.same(page.keys(), ["b", "c"]);
  put("z", { name: "z", city: "Oslo", age: 1 });
  t.same(page.keys(), ["a", "b"]);
  t.same(page.changes.at(-1)?.ops, [{ op: "remove", key: "c" }, { op: "add", key: "a", index: 0, row: { id: "a", name: "a", city: "Oslo", age: 10 } }]);
});

t.test("subscriptions with the same query and parameters share one pipeline", async (t) => {
  const { sub, put, live } = setup();
  const a = sub("byCity", { city: "Oslo" });
  const b = sub("byCity", { city: "Oslo", unused: 1 });
  const c = sub("byCity", { city: "Rome" });
  t.equal(live.stats().pipelines, 2);
  t.equal(live.stats().subscriptions, 3);
  put("p1", { name: "Ann", city: "Oslo" });
  t.same(a.changes.map((x) => x.json), b.changes.map((x) => x.json), "the same change, serialized once");
  t.equal(a.changes[0]?.json, b.changes[0]?.json);
  t.equal(c.changes.length, 0);
  a.handle?.close();
  b.handle?.close();
  t.equal(live.stats().subscriptions, 1);
});

t.test("a row change reaches only the pipelines whose predicate can match it", async (t) => {
  const { sub, put, live } = setup();
  for (let i = 0; i < 1000; i++) sub("byCity", { city: `city${i}` });
  for (let i = 0; i < 100; i++) sub("ageRange", { lo: i * 10, hi: i * 10 + 10 });
  sub("prefix", { p: "A%" });
  const before = live.stats().routed;
  put("p1", { name: "Ann", city: "city7", age: 42 });
  // city7 (hash), [40, 50) (interval), and the LIKE 'A%' query (interval [A, B) on name).
  t.equal(live.stats().routed - before, 3, "3 of 1,101 pipelines looked at the row");
  const again = live.stats().routed;
  put("p1", { name: "Ann", city: "city8", age: 55 });
  t.equal(live.stats().routed - again, 5, "old and new row: city7, city8, [40,50), [50,60), LIKE");
  put("p2", { name: "Bob", city: null, age: "x" });
  t.equal(live.stats().routed - again - 5, 0, "NULL and mistyped values match no hash or interval, and Bob is not in [A, B)");
});

t.test("a burst within one commit is coalesced into one change", async (t) => {
  const { source, sub } = setup();
  const oslo = sub("byCity", { city: "Oslo" });
  const w = (pk: string, city: string | null) => ({ view: "people", pk, row: city === null ? null : { id: pk, name: pk, city } });
  source.commit([w("a", "Oslo"), w("b", "Oslo"), w("a", "Rome"), w("c", "Oslo"), w("c", "Oslo")]);
  t.equal(oslo.changes.length, 1);
  t.same(oslo.changes[0]?.ops.map((o) => `${o.op} ${o.key}`), ["add b", "add c"]);
  source.commit([w("b", "Rome"), w("b", "Oslo")]);
  t.equal(oslo.changes.length, 1, "a row that leaves and comes back unchanged in one commit sends nothing");
});

t.test("resume: the missed changes, or reset + snapshot when they are gone", async (t) => {
  const { put, live } = setup({ resumeChangesMax: 3 });
  const client = new Recorder();
  client.begin(live.subscribe({ view: "people", query: "byCity", params: { city: "Oslo" } }, client));
  put("a", { city: "Oslo" });
  const seen = { stream: client.stream, seq: client.seq };
  client.handle?.close();
  put("b", { city: "Oslo" });
  put("a", null);
  const back = live.subscribe({ view: "people", query: "byCity", params: { city: "Oslo" }, resume: seen }, client);
  t.equal(back.start.kind, "resumed");
  client.begin(back);
  t.same(client.keys(), ["b"]);
  t.equal(client.seq, 3);
  back.subscription.close();
  for (const pk of ["c", "d", "e", "f"]) put(pk, { city: "Oslo" });
  const late = live.subscribe({ view: "people", query: "byCity", params: { city: "Oslo" }, resume: { stream: client.stream, seq: 3 } }, new Recorder());
  t.equal(late.start.kind, "snapshot");
  t.match(late.start.kind === "snapshot" ? late.start.resetReason : "", /no longer kept/);
  const stranger = live.subscribe({ view: "people", query: "byCity", params: { city: "Oslo" }, resume: { stream: "other", seq: 1 } }, new Recorder());
  t.match(stranger.start.kind === "snapshot" ? stranger.start.resetReason : "", /no longer has this stream/);
});

t.test("an idle pipeline is dropped after the grace period", async (t) => {
  const { sub, live } = setup({ resumeGraceMs: 0 });
  const a = sub("byCity", { city: "Oslo" });
  t.equal(live.stats().pipelines, 1);
  a.handle?.close();
  t.equal(live.stats().pipelines, 0);
});

t.test("hot reload: an unchanged query keeps its stream, a changed one resets, a removed one ends", async (t) => {
  const { source, sub, put } = setup();
  put("a", { name: "Ann", city: "Oslo", age: 3 });
  const same = sub("byCity", { city: "Oslo" });
  const changed = sub("youngest", { city: "Oslo" });
  const removed = sub("prefix", { p: "A%" });
  const stream = same.stream;
  const { prefix: _gone, ...kept } = PEOPLE.queries;
  source.reload([{ ...PEOPLE, queries: { ...kept, youngest: "SELECT name FROM people WHERE city = :city ORDER BY age LIMIT 2" } }]);
  put("b", { name: "Bea", city: "Oslo", age: 1 });
  t.equal(same.stream, stream);
  t.same(same.keys(), ["a", "b"]);
  t.same(changed.resets, ["the query changed in a reload"]);
  t.same(changed.result.rows, [{ name: "Bea" }, { name: "Ann" }], "the new projection");
  t.equal(removed.ended?.code, "ERR_QUERY_REMOVED");
});

t.test("a hot reload that lands while a commit is in flight is applied once the commit settles", async (t) => {
  const { source, sub, put } = setup();
  put("a", { name: "Ann", city: "Oslo", age: 3 });
  const same = sub("byCity", { city: "Oslo" });
  const changed = sub("youngest", { city: "Oslo" });
  const inFlight = source.begin([{ view: "people", pk: "b", row: { id: "b", name: "Bea", city: "Oslo", age: 1 } }]);
  source.reload([{ ...PEOPLE, queries: { ...PEOPLE.queries, youngest: "SELECT name FROM people WHERE city = :city ORDER BY age LIMIT 2" } }]);
  t.same(changed.resets, [], "nothing happens before the commit settles");
  inFlight.settle(true);
  t.same(same.keys(), ["a", "b"], "an unchanged query gets the commit's change");
  t.same(same.changes.map((c) => c.seq), [1]);
  t.same(changed.resets, ["the query changed in a reload"]);
  t.same(changed.result.rows, [{ name: "Bea" }, { name: "Ann" }], "the changed query is read again after the commit, with its new projection");
  put("c", { name: "Cy", city: "Oslo", age: 2 });
  t.same(changed.result.rows, [{ name: "Bea" }, { name: "Cy" }], "and follows later commits");
});

t.test("a view build that ends while a commit is in flight: its subscribers get a snapshot with the commit, at settle", async (t) => {
  const { source, live, put } = setup({ buildPollMs: 60_000 }); // no poll tick in this test: the settle loads it
  put("a", { name: "Ann", city: "Oslo" });
  source.buildingTables.add("people");
  const waiting = new Recorder();
  waiting.begin(live.subscribe({ view: "people", query: "byCity", params: { city: "Oslo" } }, waiting));
  t.ok(waiting.pending);
  const inFlight = source.begin([{ view: "people", pk: "b", row: { id: "b", name: "Bea", city: "Oslo" } }]);
  source.buildingTables.delete("people");
  const late = new Recorder();
  late.begin(live.subscribe({ view: "people", query: "byCity", params: { city: "Rome" } }, late));
  t.ok(late.pending, "a new pipeline started while the commit is in flight waits for it");
  inFlight.settle(true);
  t.same(waiting.keys(), ["a", "b"], "the waiting subscriber's snapshot includes the commit");
  t.notOk(late.pending);
  put("c", { name: "Cy", city: "Oslo" });
  t.same(waiting.keys(), ["a", "b", "c"], "and it follows later commits");
});

t.test("errors have stable codes", async (t) => {
  const { live, put, sub } = setup();
  const code = (f: () => unknown): unknown => { try { f(); return "no error"; } catch (e) { return (e as { code?: unknown }).code; } };
  const s = (query: string, params: Record<string, unknown>) => () => live.subscribe({ view: "people", query, params }, new Recorder());
  t.equal(code(s("nope", {})), "ERR_UNKNOWN_QUERY");
  t.equal(code(() => live.subscribe({ view: "nope", query: "byCity", params: {} }, new Recorder())), "ERR_UNKNOWN_QUERY");
  t.equal(code(s("paged", { city: "x" })), "ERR_NOT_LIVE");
  t.equal(code(s("count", { city: "x" })), "ERR_NOT_LIVE");
  t.equal(code(s("byCity", {})), "ERR_PARAM_MISSING");
  t.equal(code(s("ageRange", { lo: [1], hi: 2 })), "ERR_PARAM_TYPE");
  t.equal(code(s("prefix", { p: "%a" })), "ERR_PARAM_VALUE");
  const one = sub("one", { name: "Ann" });
  put("a", { name: "Ann" });
  put("b", { name: "Ann" });
  t.equal(one.ended?.code, "ERR_NOT_UNIQUE");
  t.equal(live.stats().pipelines, 0, "a failed pipeline is dropped");
});

t.test("row cap: a live result that grows past maxRows ends with ERR_TOO_MANY_ROWS", async (t) => {
  const source = new FakeSource([{ name: "people", table: "people", queries: { all: { sql: "SELECT * FROM people WHERE city = :c", maxRows: 2 } } }]);
  const live = new LiveQueries(source);
  live.start();
  const rec = new Recorder();
  rec.begin(live.subscribe({ view: "people", query: "all", params: { c: "x" } }, rec));
  for (const pk of ["a", "b", "c"]) source.commit([{ view: "people", pk, row: { city: "x" } }]);
  t.equal(rec.ended?.code, "ERR_TOO_MANY_ROWS");
});

t.test("a view being built: subscriptions wait for it, then get the snapshot; one-shot queries say ERR_VIEW_BUILDING", async (t) => {
  const { source, live, put } = setup({ buildPollMs: 2 });
  put("a", { name: "Ann", city: "Oslo" });
  const following = new Recorder();
  following.begin(live.subscribe({ view: "people", query: "byCity", params: { city: "Oslo" } }, following));
  source.buildingTables.add("people");
  source.reload([PEOPLE]);
  t.same(following.resets, ["the view is being rebuilt"], "a reload that starts a build resets the subscribers");
  const early = new Recorder();
  early.begin(live.subscribe({ view: "people", query: "byCity", params: { city: "Oslo" } }, early));
  t.ok(early.pending, "a new subscriber waits for the build");
  t.throws(() => live.query("people", "byCity", { city: "Oslo" }), { code: "ERR_VIEW_BUILDING" });
  t.throws(() => live.subscribe({ view: "people", query: "byCity", params: {} }, new Recorder()), { code: "ERR_PARAM_MISSING" }, "parameters are still checked at once");
  put("b", { name: "Bob", city: "Oslo" });
  t.equal(early.changes.length, 0, "no changes while building");
  const waiter = new Waiter();
  early.onSnapshot = () => waiter.poke();
  following.onSnapshot = () => waiter.poke();
  source.buildingTables.delete("people");
  await waiter.until(() => !early.pending && !following.pending, "the snapshots after the build");
  t.same(early.keys(), ["a", "b"]);
  t.same(following.keys(), ["a", "b"]);
  put("c", { name: "Cy", city: "Oslo" });
  t.same(early.keys(), ["a", "b", "c"], "and the stream goes on");
  t.same(live.query("people", "byCity", { city: "Oslo" }).rows.length, 3);
  live.stop();
});
