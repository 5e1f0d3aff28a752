// Threads started ahead of the first pool (src/host/worker-start.ts): started
// once however many callers ask, taken by heap limit, the rest stopped.
import t from "tap";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { Worker } from "node:worker_threads";
import { bootWorkers, discardPrebooted, libcFamily, libcFamilyOf, takePrebooted } from "../../src/host/worker-start.js";

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

t.test("the C library hint for lmdb-js's loader reads as detect-libc does", async (t) => {
  const elf = (interp: string): Buffer => Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01\0", "latin1"), Buffer.alloc(500), Buffer.from(`${interp}\0`, "latin1"), Buffer.alloc(100)]);
  t.equal(libcFamilyOf(elf("/lib64/ld-linux-x86-64.so.2")), "glibc");
  t.equal(libcFamilyOf(elf("/lib/ld-linux-aarch64.so.1")), "glibc");
  t.equal(libcFamilyOf(elf("/lib/ld-musl-x86_64.so.1")), "musl");
  t.equal(libcFamilyOf(elf("/system/bin/linker64")), undefined, "neither: no hint, the loader finds out itself");
  t.equal(libcFamilyOf(Buffer.concat([elf("/lib/ld-musl-x86_64.so.1"), elf("/lib64/ld-linux-x86-64.so.2")])), undefined, "both: no hint");
  // On this machine: the same answer as detect-libc (what the loader would compute without the hint).
  const require = createRequire(import.meta.url);
  const detectLibc = require(require.resolve("detect-libc", { paths: [dirname(require.resolve("node-gyp-build-optional-packages"))] })) as { familySync(): string | null };
  t.equal(libcFamily() ?? null, detectLibc.familySync());
});
