// bench/lib/proc.ts: the benchmark reports the server's main-thread CPU apart
// from all its threads; this checks the split is real: CPU burnt by another
// thread shows in the process's figure and not in the main thread's.
import t from "tap";
import { Worker } from "node:worker_threads";
import { mainThreadCpuMs, processCpuMs } from "../../bench/lib/proc.js";

const linux = process.platform === "linux";

t.test("a worker thread's CPU counts for the process, not for its main thread", { skip: !linux && "reads /proc" }, async (t) => {
  const burnMs = 300;
  const signal = new Int32Array(new SharedArrayBuffer(4));
  // The worker spins until the process has used burnMs more CPU (read from
  // /proc, the same source as the benchmark), then wakes the main thread,
  // which sleeps in Atomics.wait meanwhile and so uses (almost) none.
  const worker = new Worker(`
    const { workerData } = require("node:worker_threads");
    const { readFileSync } = require("node:fs");
    const cpu = () => { const f = readFileSync("/proc/self/stat", "latin1"); const v = f.slice(f.lastIndexOf(")") + 2).split(" "); return (Number(v[11]) + Number(v[12])) * 10; };
    const start = cpu();
    const deadline = Date.now() + 60_000;
    while (cpu() - start < workerData.burnMs + 20 && Date.now() < deadline) for (let i = 0; i < 1e5; i++);
    Atomics.store(workerData.signal, 0, 1);
    Atomics.notify(workerData.signal, 0);
  `, { eval: true, workerData: { burnMs, signal } });
  const online = new Promise((resolve) => worker.once("online", resolve));
  await online;
  const process0 = processCpuMs(process.pid);
  const main0 = mainThreadCpuMs(process.pid);
  t.equal(Atomics.wait(signal, 0, 0, 60_000), "ok", "the worker burnt its CPU within the deadline");
  const process1 = processCpuMs(process.pid);
  const main1 = mainThreadCpuMs(process.pid);
  await worker.terminate();
  if (process0 === undefined || process1 === undefined || main0 === undefined || main1 === undefined) throw new Error("no /proc figures for this process");
  t.ok(process1 - process0 >= burnMs, `the process used the worker's CPU (${process1 - process0} ms)`);
  t.ok(main1 - main0 < burnMs / 2, `the main thread did not (${main1 - main0} ms while the worker burnt ${burnMs} ms)`);
  t.ok(main1 <= process1, "a thread never used more than its process");
});

t.test("a process that is gone has no figures", { skip: !linux && "reads /proc" }, async (t) => {
  t.equal(mainThreadCpuMs(2 ** 30), undefined);
  t.equal(processCpuMs(2 ** 30), undefined);
});
