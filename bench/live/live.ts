// Live queries under write load: 10,000 subscriptions over 1,000 distinct
// parameter values while 5,000 writes/s are committed.
//   node --import tsx bench/live/live.ts [--quick] [--durability full|batched|none] [--workers N] [--client-nice N] [--client-procs N]
// Reports: latency from a commit to a client receiving the change (p50/p99),
// server memory per subscription, and write throughput (fixed-rate latency and
// closed-loop maximum) without and with the subscriptions. The server runs in
// this process (Runtime + uWS + live queries, as `calyx run`); the clients in
// child processes (bench/live/clients.ts, --client-procs, default 1) over real
// WebSockets. Each child's clock is aligned with ours over IPC (offset from
// the fastest round trip).
import { fork, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, setPriority, tmpdir } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";
import { createLogger } from "../../src/host/logger.js";
import { UwsServer } from "../../src/http/uws-server.js";
import { attachLive } from "../../src/http/ws-setup.js";
import type { Durability } from "../../src/storage/store.js";
import { newHistogram, summarize, type Histogram } from "../lib/histogram.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  // Memory per subscription needs a collection before each heap reading.
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({ options: {
  quick: { type: "boolean", default: false },
  durability: { type: "string", default: "full" },
  workers: { type: "string" },
  rate: { type: "string", default: "5000" },
  seconds: { type: "string" },
  "client-nice": { type: "string", default: "0" },
  "client-procs": { type: "string", default: "1" },
} });
const quick = values.quick;
const SUBSCRIPTIONS = quick ? 2_000 : 10_000;
const DISTINCT = quick ? 200 : 1_000;
const SOCKETS = quick ? 10 : 50;
const ITEMS = quick ? 4_000 : 20_000;
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds ?? (quick ? 3 : 15));
const MAX_SECONDS = quick ? 2 : 8;
const now = (): number => performance.timeOrigin + performance.now();

const log = createLogger({ format: "pretty", level: "warn" });
const dir = mkdtempSync(join(tmpdir(), "calyx-bench-live-"));
const project = join(dir, "project");
mkdirSync(join(project, "src"), { recursive: true });
writeFileSync(join(project, "src", "item.ts"), `import { keyValueEntity, view } from "calyx";
export const item = keyValueEntity({
  name: "item",
  initialState: (): { k: number; w: number } | null => null,
  commands: { put: { handler: (_s, c: { k: number; w: number }, ctx) => ctx.update(c).reply(null) } },
});
export const items = view({ name: "items", from: item, queries: { byKey: { sql: "SELECT * FROM items WHERE k = :k::int" } } });
`);

const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
const runtime = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir: project, dataDir: join(dir, "data"), log, workers, durability: values.durability as Durability });
// Registered before the live queries': stamps each commit the moment it is
// durable, before they release its changes (they computed them in prepare,
// while the disk synced).
// Sized for both fixed-rate phases and the closed-loop ones up front: growing
// it copies on this thread, in the middle of a measured phase.
let commitAt = new Float64Array(Math.ceil(RATE * SECONDS * 2.2) + 40_000 * MAX_SECONDS);
let lastCommitAt = 0;
let lastDeltas = 0;
let preparedDeltas: readonly { new: unknown }[] = [];
// Time the live queries spend in prepare (inside the transaction, before the sync).
let prepareFrom = 0;
let prepareMs = 0;
let prepareDeltas = 0;
runtime.onCommit({
  prepare: (deltas) => {
    preparedDeltas = deltas;
    prepareFrom = performance.now();
  },
  settle: (durable) => {
    if (!durable) return;
    const at = now();
    lastCommitAt = at;
    lastDeltas = preparedDeltas.length;
    for (const d of preparedDeltas) {
      const w = (d.new as { w?: number } | null)?.w;
      if (w === undefined) continue;
      if (w >= commitAt.length) {
        const bigger = new Float64Array(Math.max(commitAt.length * 2, w + 1));
        bigger.set(commitAt);
        commitAt = bigger;
      }
      commitAt[w] = at;
    }
  },
});
const live = attachLive(runtime, { log });
// Runs after the gateway's flush: the time from a commit to its changes handed to uWS.
const serverSide = newHistogram();
let measureServer = false;
// Registered after the live queries': the end of their prepare.
runtime.onCommit({
  prepare: (deltas) => {
    if (!measureServer) return;
    prepareMs += performance.now() - prepareFrom;
    prepareDeltas += deltas.length;
  },
  settle: () => undefined,
});
// Per commit: [committed at, handed to uWS at, row deltas], and the main
// thread's GC pauses [start, duration]: what the slowest commits have in common.
const commits: number[] = [];
const gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push(performance.timeOrigin + e.startTime, e.duration);
}).observe({ entryTypes: ["gc"] });
live.live.onFlush(() => {
  if (measureServer && lastCommitAt > 0) {
    const at = now();
    serverSide.recordValue(Math.max(1, Math.round((at - lastCommitAt) * 1000)));
    commits.push(lastCommitAt, at, lastDeltas);
  }
  lastCommitAt = 0;
});
const server = new UwsServer(runtime, { host: "127.0.0.1", port: 0, bodyBytesMax: 1 << 20, log, extend: live.extend, streamQuery: live.streamQuery });
const { port } = await server.start();
const url = `http://127.0.0.1:${port}`;

let nextW = 1;
const put = (): Promise<unknown> => {
  const w = nextW++;
  return runtime.command("item", "put", `it${Math.floor(Math.random() * ITEMS)}`, { k: Math.floor(Math.random() * DISTINCT), w }, undefined);
};

/** Fixed arrival rate; latency from each write's intended start. */
async function fixedRate(rate: number, seconds: number): Promise<{ achieved: number; latency: Histogram; errors: number }> {
  const latency = newHistogram();
  const total = Math.round(rate * seconds);
  let sent = 0;
  let done = 0;
  let errors = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      for (; sent < due; sent++) {
        const intended = start + (sent / rate) * 1000;
        put().then(
          () => { latency.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000))); },
          () => { errors++; },
        ).finally(() => { if (++done === total) resolve(); });
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  return { achieved: total / ((performance.now() - start) / 1000), latency, errors };
}

/** Closed loop: `inFlight` writers as fast as the runtime acknowledges. */
async function maxThroughput(inFlight: number, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let acked = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      await put();
      acked++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, loop));
  return acked / ((performance.now() - start) / 1000);
}

/** Whether the slowest 1% of commits (server side) were big batches or hit a GC pause. */
function tailOfCommits(): string {
  const rows: { ms: number; deltas: number; gc: boolean }[] = [];
  for (let i = 0; i < commits.length; i += 3) {
    const [from, to, deltas] = [commits[i] as number, commits[i + 1] as number, commits[i + 2] as number];
    let gc = false;
    for (let j = 0; j < gcPauses.length && !gc; j += 2) gc = (gcPauses[j] as number) < to && (gcPauses[j] as number) + (gcPauses[j + 1] as number) > from;
    rows.push({ ms: to - from, deltas, gc });
  }
  if (rows.length === 0) return "no commits measured";
  rows.sort((a, b) => a.ms - b.ms);
  const slow = rows.slice(Math.floor(rows.length * 0.99));
  const mean = (xs: readonly { deltas: number }[]): string => (xs.reduce((s, r) => s + r.deltas, 0) / xs.length).toFixed(0);
  const perDelta = rows.reduce((s, r) => s + r.ms, 0) / rows.reduce((s, r) => s + r.deltas, 0);
  return `the slowest 1% of commits (${slow.length}, ≥ ${(slow[0] as { ms: number }).ms.toFixed(1)} ms) carried ${mean(slow)} row changes on average (all commits: ${mean(rows)}); ` +
    `${slow.filter((r) => r.gc).length} of them overlapped one of the main thread's ${gcPauses.length / 2} GC pauses; per row change, ` +
    `${((prepareMs / Math.max(1, prepareDeltas)) * 1000).toFixed(0)} µs of server time in the transaction (routing, windows, diffs) and ${(perDelta * 1000).toFixed(0)} µs from durable to handed to uWS`;
}

function heap(): { heap: number; rss: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
const fmt = (s: ReturnType<typeof summarize>): string => `p50 ${s.p50} ms, p99 ${s.p99} ms, p99.9 ${s.p999} ms, max ${s.max} ms (n=${s.count})`;
const out: string[] = [];
const say = (line: string): void => { out.push(line); process.stdout.write(line + "\n"); };

say(`# bench/live — ${SUBSCRIPTIONS} subscriptions over ${DISTINCT} parameter values, ${SOCKETS} sockets, ${RATE} writes/s to ${ITEMS} entities (durability ${values.durability}, ${workers} workers, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}${quick ? ", quick" : ""})`);
// Warm up and preload every entity.
for (let i = 0; i < ITEMS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => runtime.command("item", "put", `it${i + j}`, { k: (i + j) % DISTINCT, w: 0 }, undefined)));
await fixedRate(RATE, 1);

// 1. Without subscriptions.
const plainRate = await fixedRate(RATE, SECONDS);
const plainMax = await maxThroughput(256, MAX_SECONDS);
say(`without subscriptions: ${RATE}/s offered -> ${plainRate.achieved.toFixed(0)}/s, write latency ${fmt(summarize(plainRate.latency))}; closed-loop max ${plainMax.toFixed(0)} writes/s`);

// 2. Subscribe.
const before = heap();
// BENCH_CHILD_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the clients.
const childArgs = process.env["BENCH_CHILD_ARGS"]?.split(" ").filter((a) => a !== "") ?? [];
// --client-procs N spreads the sockets over N client processes (each parses its share of a commit's frames).
const CLIENT_PROCS = Math.max(1, Math.min(SOCKETS, Number(values["client-procs"])));
const children = Array.from({ length: CLIENT_PROCS }, () => {
  const child = fork(new URL("./clients.ts", import.meta.url).pathname, [], { execArgv: ["--import", "tsx", ...childArgs], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  // The clients share this machine's cores: --client-nice 10 lets the server have them first.
  if (Number(values["client-nice"]) !== 0 && child.pid !== undefined) setPriority(child.pid, Number(values["client-nice"]));
  return child;
});
type Child = (typeof children)[number];
const reply = <T>(child: Child, type: string): Promise<T> => new Promise((resolve) => {
  const on = (m: { t: string }): void => { if (m.t === type) { child.off("message", on); resolve(m as T); } };
  child.on("message", on);
});
const all = <T>(type: string, message: (child: Child, i: number) => unknown): Promise<T[]> =>
  Promise.all(children.map((child, i) => { const r = reply<T>(child, type); child.send(message(child, i) as never); return r; }));
const subscribed = performance.now();
await all("ready", (_c, i) => ({ t: "setup", setup: { url, sockets: SOCKETS, from: Math.floor((i * SOCKETS) / CLIENT_PROCS), to: Math.floor(((i + 1) * SOCKETS) / CLIENT_PROCS), subscriptions: SUBSCRIPTIONS, distinct: DISTINCT } }));
const subscribeMs = performance.now() - subscribed;
const after = heap();
const stats = live.live.stats();
say(`subscribed ${stats.subscriptions} in ${subscribeMs.toFixed(0)} ms: ${stats.pipelines} pipelines holding ${stats.rows} rows; server heap +${mb(after.heap - before.heap)} (${((after.heap - before.heap) / SUBSCRIPTIONS).toFixed(0)} bytes per subscription, including its pipeline's share), rss +${mb(after.rss - before.rss)}`);

// Clock offset of each child: the round trip with the smallest delay.
const offsets: number[] = [];
let best = Infinity;
for (const child of children) {
  let offset = 0;
  let fastest = Infinity;
  for (let i = 0; i < 50; i++) {
    const t0 = now();
    const r = reply<{ at: number }>(child, "clock");
    child.send({ t: "clock", id: i });
    const { at } = await r;
    const t1 = now();
    if (t1 - t0 < fastest) { fastest = t1 - t0; offset = at - (t0 + t1) / 2; }
  }
  offsets.push(offset);
  best = Math.min(best, fastest);
}
// 3. With subscriptions: the same fixed rate, latency commit -> client.
const firstW = nextW;
await all("recording", () => ({ t: "record", on: true }));
measureServer = true;
const liveRate = await fixedRate(RATE, SECONDS);
measureServer = false;
const lastW = nextW;
const liveMax = await maxThroughput(256, MAX_SECONDS);
await all("recording", () => ({ t: "record", on: false }));
const dumps = await all<{ pairs: number; messages: number; closes: number }>("dumped", (_c, i) => ({ t: "dump", file: join(dir, `pairs-${i}.bin`) }));
const dumped = { pairs: dumps.reduce((n, d) => n + d.pairs, 0), closes: dumps.reduce((n, d) => n + d.closes, 0) };
const delivery = newHistogram();
const deliveryFixed = newHistogram();
for (let c = 0; c < CLIENT_PROCS; c++) {
  const pairs = new Float64Array(readFileSync(join(dir, `pairs-${c}.bin`)).buffer.slice(0));
  const childOffset = offsets[c] as number;
  for (let i = 0; i < pairs.length; i += 2) {
    const w = pairs[i] as number;
    const committed = commitAt[w];
    if (committed === undefined || committed === 0) continue;
    const us = Math.max(1, Math.round((((pairs[i + 1] as number) - childOffset) - committed) * 1000));
    delivery.recordValue(us);
    if (w >= firstW && w < lastW) deliveryFixed.recordValue(us);
  }
}
const ws = live.gateway.stats();
const loaded = heap();
say(`with subscriptions: ${RATE}/s offered -> ${liveRate.achieved.toFixed(0)}/s, write latency ${fmt(summarize(liveRate.latency))}; closed-loop max ${liveMax.toFixed(0)} writes/s (${((liveMax / plainMax) * 100).toFixed(0)}% of without)`);
say(`commit -> client at ${RATE}/s: ${fmt(summarize(deliveryFixed))}`);
say(`  of which commit -> handed to uWS (server, per commit): ${fmt(summarize(serverSide))}`);
say(`  ${tailOfCommits()}`);
say(`commit -> client during the closed-loop max: ${fmt(summarize(delivery))} (all ${dumped.pairs} changes received)`);
say(`server heap after the writes (resume logs full): +${mb(loaded.heap - before.heap)} over no subscriptions (${((loaded.heap - before.heap) / SUBSCRIPTIONS).toFixed(0)} bytes per subscription)`);
say(`sockets cut as slow consumers: ${ws.slowConsumersCut}, closed: ${dumped.closes}; ${CLIENT_PROCS} client process(es), clock offset ${offsets.map((o) => o.toFixed(3)).join(", ")} ms (fastest round trip ${best.toFixed(3)} ms); live: ${JSON.stringify(live.live.stats())}`);

for (const child of children) child.send({ t: "exit" });
live.close();
await server.stop();
await runtime.stop();
rmSync(dir, { recursive: true, force: true });
