// Soak run of the SQLite differential test with fresh seeds.
//   node --import tsx bench/query/fuzz.ts [--seconds 600] [--start SEED] [--big]
// A failing seed is printed and appended to test/query/oracle/regressions.json.
import { readFileSync, writeFileSync } from "node:fs";
import { runSeed } from "../../test/query/oracle/run-seed.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const seconds = arg("seconds", 60);
let seed = arg("start", (Date.now() % 1_000_000_000) + 1000);
const big = process.argv.includes("--big");
const opts = big ? { queries: 20, batches: 10, opsPerBatch: 20, keys: 80 } : undefined;
const deadline = Date.now() + seconds * 1000;
let runs = 0;
let comparisons = 0;
while (Date.now() < deadline) {
  try {
    comparisons += runSeed(seed, opts).comparisons;
  } catch (e) {
    console.error(String(e));
    const file = new URL("../../test/query/oracle/regressions.json", import.meta.url);
    const data = JSON.parse(readFileSync(file, "utf8")) as { comment: string; seeds: number[] };
    if (!data.seeds.includes(seed) && !big) {
      data.seeds.push(seed);
      writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
      console.error(`seed ${seed} saved to regressions.json`);
    }
    process.exitCode = 1;
    break;
  }
  runs++;
  seed++;
}
console.log(`${runs} seeds, ${comparisons} query comparisons, last seed ${seed - 1}`);
