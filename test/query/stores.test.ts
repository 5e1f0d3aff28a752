// The query layer on the real stores (src/storage memory and LMDB): the same
// results as on the test MemoryTxn, and read-your-writes through the group
// committer with ViewMaintainer as its CommitHook.
import t from "tap";
import type { Test } from "tap";
import { compileView } from "../../src/query/compile-view.js";
import { ViewMaintainer } from "../../src/query/maintain/view-maintainer.js";
import type { Row } from "../../src/query/types.js";
import { Committer } from "../../src/storage/committer.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import type { Store } from "../../src/storage/store.js";
import { MemoryTxn } from "./helpers/memory-txn.js";
import { Random } from "./oracle/random.js";

const SQL: Record<string, string> = {
  byCity: "SELECT * FROM people WHERE city = :c ORDER BY age DESC LIMIT 5",
  inCities: "SELECT * FROM people WHERE city IN ('c1', 'c3') ORDER BY name",
  range: "SELECT * FROM people WHERE age BETWEEN 10 AND 20 AND name LIKE 'n1%'",
  tagged: "SELECT * FROM people WHERE :t = ANY(tags) ORDER BY age, name LIMIT 7",
  either: "SELECT * FROM people WHERE city = 'c2' OR age > 45 ORDER BY name LIMIT 20",
  paged: "SELECT * AS items, next_page_token() AS next FROM people WHERE age >= 0 ORDER BY age DESC OFFSET page_token_offset(:tok) LIMIT 9",
  count: "SELECT COUNT(*) AS n FROM people WHERE age < 25",
  byName: "SELECT * FROM people WHERE name = :name",
};
const view = compileView({ name: "people", table: "people", queries: Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, { sql }])) });

function randomPeople(seed: number, n: number): [string, Row | null][] {
  const r = new Random(seed);
  const out: [string, Row | null][] = [];
  for (let i = 0; i < n; i++) {
    const pk = `p${r.int(0, 300)}`;
    out.push([pk, r.chance(0.1) ? null : { name: `n${r.int(0, 40)}`, age: r.int(0, 50), city: `c${r.int(0, 4)}`, tags: [`t${r.int(0, 3)}`, `t${r.int(0, 3)}`] }]);
  }
  return out;
}

const PARAMS: Record<string, Record<string, unknown>> = { byName: { name: "n3" }, byCity: { c: "c2" }, tagged: { t: "t1" }, paged: { tok: "" } };

async function sameAsReference(t: Test, store: Store): Promise<void> {
  const ref = new MemoryTxn();
  const changes = randomPeople(7, 1500);
  for (let i = 0; i < changes.length; i += 100) {
    const chunk = changes.slice(i, i + 100);
    await store.write((txn) => {
      for (const [pk, row] of chunk) view.applyRowChange(txn, pk, row);
    });
    for (const [pk, row] of chunk) view.applyRowChange(ref, pk, row);
  }
  for (const [name, q] of Object.entries(view.queries)) {
    const params = PARAMS[name] ?? {};
    const expected = [...q.execute(ref, params)];
    const actual = store.read((txn) => [...q.execute(txn, params)]);
    t.same(actual, expected, name);
    t.ok(name === "count" || name === "paged" || expected.length > 0, `${name} returns rows`);
  }
}

t.test("memory store: same results as the reference txn", async (t) => {
  const store = new MemoryStore();
  await sameAsReference(t, store);
  await store.close();
});

t.test("lmdb store: same results as the reference txn", async (t) => {
  const store = openLmdbStore({ path: t.testdir(), durability: "none" });
  t.teardown(() => store.close());
  await sameAsReference(t, store);
});

t.test("read-your-writes: every committed write is visible to the next query, under concurrency", async (t) => {
  const store = openLmdbStore({ path: t.testdir(), durability: "none" });
  const committer = new Committer(store, { hook: new ViewMaintainer([view]) });
  committer.start();
  t.teardown(async () => {
    await committer.stop();
    await store.close();
  });
  const seq = new Map<string, number>();
  let checked = 0;
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 3000; i++) {
    const id = `e${i % 500}`;
    const baseSeq = seq.get(id) ?? 0;
    seq.set(id, baseSeq + 1);
    const version = baseSeq + 1;
    writes.push(
      committer
        .submit({ component: "person", id, baseSeq, state: { value: { version } }, events: [], views: [{ table: "people", pk: id, row: { name: id, version, age: i % 50 } }] })
        .then(() => {
          // Later writes to the same entity may share the batch: the row shows this version or a newer one.
          const rows = store.read((txn) => [...view.queries["byName"]!.execute(txn, { name: id })]);
          if (rows.length !== 1 || (rows[0]?.["version"] as number) < version) t.fail(`write ${i} (${id} v${version}) not visible after its commit`);
          checked++;
        }),
    );
  }
  await Promise.all(writes);
  t.equal(checked, 3000, "3000 writes, each queried right after its commit resolved");
});
