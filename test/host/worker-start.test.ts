// Threads started ahead of the first pool (src/host/worker-start.ts): started
// once however many callers ask, taken by heap limit, the rest stopped.
import t from "tap";
import type { Worker } from "node:worker_threads";
import { bootWorkers, discardPrebooted, takePrebooted } from "../../src/host/worker-start.js";

function exited(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once("exit", resolve));
}

t.test("bootWorkers tops up; a pool takes threads of its heap limit only; the rest are stopped", async (t) => {
  bootWorkers(2, 64);
  bootWorkers(2, 64); // the CLI asks again after the entry point did: nothing more starts
  bootWorkers(1, 96);
  const a = takePrebooted(64);
  const b = takePrebooted(64);
  t.ok(a, "first thread of 64 MB");
  t.ok(b, "second thread of 64 MB");
  t.not(a, b);
  t.equal(takePrebooted(64), undefined, "only two were started");
  t.equal(takePrebooted(128), undefined, "no thread of another heap limit");
  const left = globalThis.__calyxPrebooted?.map((p) => p.worker) ?? [];
  t.equal(left.length, 1, "the 96 MB thread is still waiting");
  const gone = left.map(exited);
  discardPrebooted();
  await Promise.all(gone);
  t.equal(takePrebooted(96), undefined, "discarded");
  await Promise.all([a?.terminate(), b?.terminate()]);
});
