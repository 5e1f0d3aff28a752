// The window operator against a model: random inserts and removals on
// windows of every size (the small-window and large-window removal paths),
// with and without LIMIT, ascending and descending, ties on the first sort
// part; after every operation the entries equal the model's first rows.
import t from "tap";
import { Window, type Entry } from "../../src/live/window.js";
import { compareSortKeys } from "../../src/query/exec/row-source.js";
import type { OrderKey } from "../../src/query/plan/plan-nodes.js";
import { Random } from "../query/oracle/random.js";

const ORDERS: { name: string; order: OrderKey[]; key: (pk: string, v: number) => (string | number)[] }[] = [
  { name: "pk", order: [{ path: null, desc: false }], key: (pk) => [pk] },
  { name: "v, pk", order: [{ path: ["v"], desc: false }, { path: null, desc: false }], key: (pk, v) => [v, pk] },
  { name: "v desc, pk", order: [{ path: ["v"], desc: true }, { path: null, desc: false }], key: (pk, v) => [v, pk] },
];

for (const { name, order, key } of ORDERS) {
  for (const capacity of [null, 50]) {
    t.test(`ORDER BY ${name}, capacity ${capacity ?? "none"}`, async (t) => {
      const rnd = new Random(name.length * 1000 + (capacity ?? 0));
      const w = new Window(order, capacity);
      w.load([], false);
      // The model: every row that passes the filter (pk -> entry), sorted on demand.
      const rows = new Map<string, Entry>();
      let bad = 0;
      for (let step = 0; step < 3000; step++) {
        // Grow to ≈ 300 rows, then churn: both removal paths (≤ 64 and > 64 entries).
        const pk = `p${rnd.int(0, 299)}`;
        if (rnd.chance(step < 1500 ? 0.25 : 0.5)) {
          w.remove(pk);
          rows.delete(pk);
        } else {
          const e: Entry = { pk, key: key(pk, rnd.int(0, 20)), row: {} };
          w.insert(e);
          rows.set(pk, e);
        }
        // Without LIMIT the window is every row. With one it holds at most
        // `capacity` rows and (never refilled here: no fill()) every row up to
        // its last one — a row that left it may leave a gap at the end only.
        const want = [...rows.values()].sort((a, b) => compareSortKeys(a.key, b.key, order));
        const got = w.entries;
        const last = got[got.length - 1];
        const prefix = capacity === null ? want : last === undefined ? [] : want.filter((e) => compareSortKeys(e.key, last.key, order) <= 0);
        if (capacity !== null && got.length > capacity) bad++;
        if (got.length !== prefix.length || got.some((g, i) => g.pk !== prefix[i]?.pk)) bad++;
        if (got.some((g, i) => w.indexOf(g.key) !== i)) bad++;
      }
      t.equal(bad, 0, "entries stay sorted and complete after every operation");
      t.ok(rows.size > 64, "the window grew past the small-window path");
    });
  }
}
