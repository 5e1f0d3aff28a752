// Start-up cost of a big store: open + first reads, in a fresh process.
//
//   node --import tsx bench/storage/startup.ts [--quick]
//
// Generates (once, cached in the OS temp folder) a store with 1,000,000
// entities and 10,000,000 journal entries (--quick: 100,000 / 1,000,000) with
// raw batched lmdb-js puts in our layout, then measures, in a new process:
// module import, openLmdbStore, the first getState, journalHead, and the first
// Committer.start (which reads the head). Nothing may be replayed: these
// should not grow with the data.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "lmdb";

const quick = process.argv.includes("--quick");
const ENTITIES = quick ? 100_000 : 1_000_000;
const RECORDS_PER_ENTITY = 10;
const RUNS = 5;

async function generate(dir: string): Promise<void> {
  const { FORMAT_VERSION, META_FORMAT_VERSION_KEY, entityLogKey, journalKey, stateKey } = await import("../../src/storage/layout.js");
  rmSync(dir, { recursive: true, force: true });
  const env = open({ path: dir, noSubdir: false, maxDbs: 12, noSync: true });
  const db = (name: string) => env.openDB<unknown, Buffer>({ name, keyEncoding: "binary", encoding: "msgpack" });
  const [state, journal, entityLog, meta] = [db("state"), db("journal"), db("entityLog"), db("meta")];
  for (const name of ["rows", "index", "offsets", "timers"]) db(name);
  await meta.put(META_FORMAT_VERSION_KEY, FORMAT_VERSION);
  // lmdb-js accepts put options at run time; its types only declare a version number.
  const APPEND = { append: true } as unknown as number;
  const started = performance.now();
  let g = 1;
  let last: Promise<boolean> | undefined;
  const time = Date.now();
  // Entity-major with zero-padded ids: every db's keys arrive in ascending order (append).
  for (let e = 0; e < ENTITIES; e++) {
    const id = `e${String(e).padStart(8, "0")}`;
    let value: unknown;
    for (let s = 1; s <= RECORDS_PER_ENTITY; s++) {
      value = { name: `Customer ${e}`, email: `c${e}@example.com`, n: s };
      void journal.put(journalKey(g), { component: "customer", id, entitySeq: s, type: "state", payload: value, time, partition: 0 }, APPEND);
      void entityLog.put(entityLogKey("customer", id, s), g, APPEND);
      g++;
    }
    last = state.put(stateKey("customer", id), { seq: RECORDS_PER_ENTITY, state: value }, APPEND);
    if (e % 10_000 === 9_999) {
      await last;
      if (e % 100_000 === 99_999) console.error(`  generated ${e + 1} entities (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  await last;
  await env.close();
  writeFileSync(join(dir, "GENERATED"), `${ENTITIES} ${g - 1}\n`);
  console.error(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs in the child: prints one JSON line of timings. */
async function measure(dir: string): Promise<void> {
  const t0 = performance.now();
  const { openLmdbStore } = await import("../../src/storage/lmdb-store.js");
  const { Committer } = await import("../../src/storage/committer.js");
  const t1 = performance.now();
  const store = openLmdbStore({ path: dir, durability: "full" });
  const t2 = performance.now();
  const s = store.getState("customer", `e${String(Math.floor(ENTITIES / 2)).padStart(8, "0")}`);
  const t3 = performance.now();
  const head = store.journalHead();
  const t4 = performance.now();
  const committer = new Committer(store);
  committer.start();
  const t5 = performance.now();
  if (s?.seq !== RECORDS_PER_ENTITY || head !== ENTITIES * RECORDS_PER_ENTITY) throw new Error(`unexpected data: ${JSON.stringify(s)} head ${head}`);
  await committer.stop();
  await store.close();
  console.log(JSON.stringify({ importMs: t1 - t0, openMs: t2 - t1, firstGetMs: t3 - t2, headMs: t4 - t3, committerStartMs: t5 - t4, totalMs: t5 - t1 }));
}

const measureDir = process.argv[process.argv.indexOf("--measure") + 1];
if (process.argv.includes("--measure") && measureDir) {
  await measure(measureDir);
} else {
  const dir = join(tmpdir(), `calyx-bench-startup-${ENTITIES}`);
  if (!existsSync(join(dir, "GENERATED"))) await generate(dir);
  const size = statSync(join(dir, "data.mdb")).size;
  const self = fileURLToPath(import.meta.url);
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, ["--import", "tsx", self, ...(quick ? ["--quick"] : []), "--measure", dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`measure failed: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number>);
  }
  const median = (k: string): string => {
    const xs = runs.map((r) => r[k] as number).sort((a, b) => a - b);
    return (xs[Math.floor(xs.length / 2)] as number).toFixed(2);
  };
  console.log(`\n### Store start-up, ${ENTITIES.toLocaleString("en-US")} entities, ${(ENTITIES * RECORDS_PER_ENTITY).toLocaleString("en-US")} journal entries, data.mdb ${(size / 2 ** 30).toFixed(2)} GiB, median of ${RUNS} fresh processes\n`);
  console.log("| step | ms |");
  console.log("|---|---:|");
  console.log(`| import storage modules (tsx, lmdb native addon) | ${median("importMs")} |`);
  console.log(`| openLmdbStore (env, 8 dbs, format check) | ${median("openMs")} |`);
  console.log(`| first getState | ${median("firstGetMs")} |`);
  console.log(`| journalHead | ${median("headMs")} |`);
  console.log(`| Committer.start | ${median("committerStartMs")} |`);
  console.log(`| **open to first read + ready to commit** | **${median("totalMs")}** |`);
}
