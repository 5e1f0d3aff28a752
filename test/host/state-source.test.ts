// A worker's reads of the store (src/host/state-source.ts). lmdb-js keeps a
// thread's read snapshot until a timer resets it, so a worker handling
// messages back to back could read what was stored before a commit the main
// thread waited for before sending the message; freshen() (called by the
// worker for each message) makes the next read take a new snapshot.
import t from "tap";
import { Worker } from "node:worker_threads";
import { openLmdbStore } from "../../src/storage/lmdb-store.js";
import { Committer } from "../../src/storage/committer.js";

const SOURCE = new URL("../../src/host/state-source.ts", import.meta.url).href;

t.test("a read after a message sees every commit made before the message was sent", async (t) => {
  const dir = t.testdir();
  const store = openLmdbStore({ path: dir, durability: "full" });
  const committer = new Committer(store, {});
  committer.start();
  t.teardown(async () => {
    await committer.stop();
    await store.close();
  });
  const write = (n: number) => committer.submit({ component: "c", id: "x", baseSeq: n - 1, events: [], state: { value: { n } } });
  await write(1);
  const hold = new Int32Array(new SharedArrayBuffer(4));
  // Like worker-main: freshen() on each message. "readThenHold" reads, then
  // blocks until the main thread has committed and sent the next message, so
  // that message is handled right after, in the same drain of the port.
  const worker = new Worker(`
    import { parentPort, workerData } from "node:worker_threads";
    import { register } from "tsx/esm/api";
    register();
    const { openStateSource } = await import(workerData.source);
    const source = openStateSource(workerData.dir);
    parentPort.on("message", (m) => {
      source.freshen();
      const seq = source.getState("c", "x")?.seq;
      parentPort.postMessage({ t: m.t, seq });
      if (m.t === "readThenHold") Atomics.wait(workerData.hold, 0, 0, 20_000);
      if (m.t === "read") source.close();
    });
  `, { eval: true, workerData: { source: SOURCE, dir, hold } });
  t.teardown(() => worker.terminate());
  const answers: { t: string; seq: number }[] = [];
  const answered = (n: number) => new Promise<void>((resolve) => {
    const check = (): void => { if (answers.length >= n) resolve(); else worker.once("message", (m: { t: string; seq: number }) => { answers.push(m); check(); }); };
    check();
  });
  worker.postMessage({ t: "readThenHold" });
  await answered(1);
  await write(2);
  worker.postMessage({ t: "read" });
  Atomics.store(hold, 0, 1);
  Atomics.notify(hold, 0);
  await answered(2);
  t.same(answers, [{ t: "readThenHold", seq: 1 }, { t: "read", seq: 2 }], "the second read saw the commit made before its message");
});
