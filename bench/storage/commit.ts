// Group-commit throughput and latency, fsync on (durability "full"), next to
// raw lmdb-js batched puts of the same keys and values in the same run.
//
//   node --import tsx bench/storage/commit.ts [--quick]
//
// For each batch size N: a closed loop submits N single-entity state writes
// (state + journal + entityLog, as the Committer does), waits until all are
// durable, repeats. The raw baseline does the same N x 3 puts through lmdb-js's
// own batching (no JS transaction callback) on an environment with the same
// sync flags. "sustained" keeps N writes in flight (each ack submits the next),
// the way the host drives the committer.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import { Committer } from "../../src/storage/committer.js";
import { entityLogKey, journalKey, stateKey } from "../../src/storage/layout.js";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";

const quick = process.argv.includes("--quick");
// --durability none measures the CPU cost alone (no fsync), on both sides.
const durabilityArg = process.argv.find((a) => a.startsWith("--durability="))?.split("=")[1] ?? "full";
if (durabilityArg !== "full" && durabilityArg !== "none") throw new Error("--durability=full|none");
const durability: "full" | "none" = durabilityArg;
const durationMs = quick ? 600 : 3000;
const batches = [1, 16, 256, 1024];
const ENTITIES = 10_000;

interface Result {
  writesPerS: number;
  p50: number;
  p99: number;
}

function summarize(count: number, elapsedMs: number, latencies: number[]): Result {
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { writesPerS: (count / elapsedMs) * 1000, p50: at(0.5), p99: at(0.99) };
}

function stateValue(i: number): { name: string; email: string; n: number } {
  return { name: `Customer ${i}`, email: `c${i}@example.com`, n: i };
}

async function benchCommitter(n: number, sustained: boolean): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "calyx-bench-commit-"));
  const store = openLmdbStore({ path: dir, durability });
  const committer = new Committer(store, { batchMax: 1024, queueMax: 100_000 });
  committer.start();
  const seqs = new Int32Array(ENTITIES);
  let next = 0;
  const submitOne = async (latencies: number[]): Promise<void> => {
    const i = next++ % ENTITIES;
    const baseSeq = seqs[i] as number;
    seqs[i] = baseSeq + 1;
    const t0 = performance.now();
    await committer.submit({ component: "customer", id: `c${i}`, baseSeq, state: { value: stateValue(i) }, events: [] });
    latencies.push(performance.now() - t0);
  };
  // warm-up
  await Promise.all(Array.from({ length: 200 }, () => submitOne([])));
  const latencies: number[] = [];
  const start = performance.now();
  let count = 0;
  if (sustained) {
    const worker = async (): Promise<void> => {
      while (performance.now() - start < durationMs) {
        await submitOne(latencies);
        count++;
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
  } else {
    while (performance.now() - start < durationMs) {
      await Promise.all(Array.from({ length: n }, () => submitOne(latencies)));
      count += n;
    }
  }
  const elapsed = performance.now() - start;
  await committer.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return summarize(count, elapsed, latencies);
}

async function benchRaw(n: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "calyx-bench-raw-"));
  const env = open({ path: dir, noSubdir: false, maxDbs: 12, overlappingSync: false, noSync: durability === "none" });
  const state = env.openDB<unknown, Buffer>({ name: "state", keyEncoding: "binary" });
  const journal = env.openDB<unknown, Buffer>({ name: "journal", keyEncoding: "binary" });
  const entityLog = env.openDB<unknown, Buffer>({ name: "entityLog", keyEncoding: "binary" });
  const seqs = new Int32Array(ENTITIES);
  let next = 0;
  let g = 1;
  const round = async (count: number): Promise<void> => {
    let last: Promise<boolean> | undefined;
    const time = Date.now();
    for (let k = 0; k < count; k++) {
      const i = next++ % ENTITIES;
      const seq = (seqs[i] as number) + 1;
      seqs[i] = seq;
      const id = `c${i}`;
      const value = stateValue(i);
      void journal.put(journalKey(g), { component: "customer", id, entitySeq: seq, type: "state", payload: value, time, partition: 0 });
      void entityLog.put(entityLogKey("customer", id, seq), g);
      last = state.put(stateKey("customer", id), { seq, state: value });
      g++;
    }
    await last;
  };
  await round(200);
  const latencies: number[] = [];
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < durationMs) {
    const t0 = performance.now();
    await round(n);
    const dt = performance.now() - t0;
    for (let k = 0; k < n; k++) latencies.push(dt);
    count += n;
  }
  const elapsed = performance.now() - start;
  await env.close();
  rmSync(dir, { recursive: true, force: true });
  return summarize(count, elapsed, latencies);
}

const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2));

const rows: string[] = [];
for (const n of batches) {
  const raw = await benchRaw(n);
  const committer = await benchCommitter(n, false);
  const sustained = await benchCommitter(n, true);
  rows.push(
    `| ${n} | ${fmt(committer.writesPerS)} | ${fmt(committer.p50)} | ${fmt(committer.p99)} | ${fmt(sustained.writesPerS)} | ${fmt(sustained.p50)} | ${fmt(sustained.p99)} | ` +
      `${fmt(raw.writesPerS)} | ${fmt(raw.p50)} | ${fmt(raw.p99)} | ${(raw.writesPerS / committer.writesPerS).toFixed(2)}x |`,
  );
  console.error(`batch ${n} done`);
}
console.log(`\n### Committer vs raw lmdb-js, durability ${durability}${durability === "full" ? " (fsync per commit)" : " (no fsync: CPU cost only)"}, ${durationMs} ms per cell, node ${process.version}\n`);
console.log("| batch | committer writes/s | p50 ms | p99 ms | sustained (N in flight) writes/s | p50 ms | p99 ms | raw lmdb-js puts writes/s | p50 ms | p99 ms | raw / committer |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) console.log(r);
console.log("\nA write = state put + journal append + entityLog put of one entity. Latency: submit -> durable ack (raw: round time).");
