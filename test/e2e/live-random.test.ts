// Randomized, end to end: one client holds many subscriptions (varied WHERE,
// ORDER BY, LIMIT, OFFSET, parameters) while random batches of concurrent
// writes and deletes go through the real runtime (several writes per group
// commit, the same entity more than once per batch). Changes travel on the
// client's socket before the replies of the writes that caused them, so once
// a batch's replies are in, every live result must equal the one-shot query.
// A second client, subscribed to the same queries, must converge to the same
// rows (it shares the server's pipelines but reads its own socket).
import t from "tap";
import { CalyxClient } from "../../src/client/client.js";
import type { LiveQuery } from "../../src/client/live-query.js";
import { Random } from "../query/oracle/random.js";
import { Waiter, writeItemsProject } from "../live/helpers/e2e.js";
import { startCalyx } from "./helpers.js";

const QUERIES: Record<string, string> = {
  byColor: "SELECT * FROM items WHERE color = :color",
  byColorSize: "SELECT id, n FROM items WHERE color = :color AND size = :size",
  inColors: "SELECT * FROM items WHERE color IN (:a, :b) ORDER BY n DESC LIMIT 4",
  range: "SELECT * FROM items WHERE n >= :lo AND n < :hi ORDER BY n, id",
  top: "SELECT id, n FROM items ORDER BY n DESC LIMIT 5",
  page2: "SELECT * FROM items WHERE color = :color ORDER BY n LIMIT 3 OFFSET 2",
  prefix: "SELECT * FROM items WHERE id LIKE :p ORDER BY id LIMIT 6",
  tagged: "SELECT * FROM items WHERE :tag = ANY(tags) ORDER BY size DESC, n LIMIT 5",
  bigOrSmall: "SELECT * FROM items WHERE size = 'L' OR n < :n",
};
const COLORS = ["red", "green", "blue", "black"];
const SIZES = ["S", "M", "L"];
const TAGS = ["x", "y", "z"];

function paramsFor(r: Random, query: string): Record<string, unknown> {
  switch (query) {
    case "byColor":
    case "page2":
      return { color: r.pick(COLORS) };
    case "byColorSize":
      return { color: r.pick(COLORS), size: r.pick(SIZES) };
    case "inColors":
      return { a: r.pick(COLORS), b: r.pick(COLORS) };
    case "range": {
      const lo = r.int(0, 15);
      return { lo, hi: lo + r.int(0, 10) };
    }
    case "prefix":
      return { p: `i${r.int(1, 2)}%` };
    case "tagged":
      return { tag: r.pick(TAGS) };
    case "bigOrSmall":
      return { n: r.int(0, 10) };
    default:
      return {};
  }
}

t.test("random concurrent writes: every live result equals the one-shot query after each batch", async (t) => {
  const dir = t.testdir();
  const server = await startCalyx(["run", writeItemsProject(dir, QUERIES), "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const r = new Random(20_260_101);
  const writer = new CalyxClient(server.url);
  const other = new CalyxClient(server.url);
  t.teardown(() => { writer.close(); other.close(); });
  const waiter = new Waiter();
  const subs: { query: string; params: Record<string, unknown>; mine: LiveQuery; theirs: LiveQuery }[] = [];
  for (const query of Object.keys(QUERIES)) {
    for (let i = 0; i < 5; i++) {
      const params = paramsFor(r, query);
      subs.push({ query, params, mine: writer.subscribe("items", query, params), theirs: other.subscribe("items", query, params, () => waiter.poke()) });
    }
  }
  await Promise.all(subs.flatMap((s) => [s.mine.ready(), s.theirs.ready()]));
  let changes = 0;
  for (let batch = 0; batch < 60; batch++) {
    const writes: Promise<unknown>[] = [];
    for (let i = r.int(1, 20); i > 0; i--) {
      const id = `i${r.int(0, 29)}`;
      if (r.chance(0.2)) writes.push(writer.call("item", "remove", id));
      else {
        const tags = TAGS.filter(() => r.chance(0.4));
        writes.push(writer.call("item", "put", id, { id, color: r.pick(COLORS), size: r.pick(SIZES), n: r.int(0, 20), tags }));
      }
    }
    await Promise.all(writes);
    for (const s of subs) {
      const expected = await writer.query("items", s.query, s.params);
      const sorted = (rows: readonly Record<string, unknown>[]) => s.query === "bigOrSmall" ? [...rows].sort((a, b) => String(a["id"]).localeCompare(String(b["id"]))) : rows;
      if (JSON.stringify(sorted(s.mine.rows)) !== JSON.stringify(sorted(expected))) {
        t.fail(`batch ${batch}: ${s.query} ${JSON.stringify(s.params)}`, { found: s.mine.rows, wanted: expected });
        return;
      }
      changes += s.mine.seq;
    }
  }
  t.pass(`60 batches, ${subs.length} subscriptions: every result matched after every batch`);
  t.ok(changes > 100, `the subscriptions saw ${changes} change messages`);
  await waiter.until(() => subs.every((s) => JSON.stringify(s.theirs.entries) === JSON.stringify(s.mine.entries)), "the second client to converge");
  t.pass("the second client converged to the same rows");
});
