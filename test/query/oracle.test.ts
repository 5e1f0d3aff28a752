// THE ORACLE: random schemas, writes and queries; every result must equal
// SQLite's (better-sqlite3, in memory) and incremental state a rebuild.
// Longer soak runs: node --import tsx bench/query/fuzz.ts --seconds 600
import { readFileSync } from "node:fs";
import t from "tap";
import { runSeed } from "./oracle/run-seed.js";

const SEEDS = 800;
const regressions = (JSON.parse(readFileSync(new URL("./oracle/regressions.json", import.meta.url), "utf8")) as { seeds: number[] }).seeds;

t.test("regression seeds", async (t) => {
  for (const seed of regressions) t.doesNotThrow(() => runSeed(seed), `seed ${seed}`);
});

t.test(`${SEEDS} random seeds agree with SQLite`, async (t) => {
  const total = { queries: 0, rejected: 0, comparisons: 0, pages: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    let stats;
    try {
      stats = runSeed(seed);
    } catch (e) {
      t.fail(String(e));
      return;
    }
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += stats[k];
  }
  t.comment(`queries ${total.queries}, rejected at load ${total.rejected}, comparisons ${total.comparisons}, pages ${total.pages}`);
  t.ok(total.comparisons > 5000, "thousands of query results compared");
  t.ok(total.pages > 5000, "thousands of pages compared across writes");
  t.ok(total.rejected > 0, "some random queries are rejected (unindexable), none crash");
});
