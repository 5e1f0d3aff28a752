// A commit that fails after the live queries prepared their changes (the
// fan-out is computed inside the transaction, before the disk syncs): on the
// real runtime and LMDB, subscribers never see the lost write, they get a
// reset and a snapshot read again from the store, and later commits flow.
import t from "tap";
import { join } from "node:path";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";
import { attachLive } from "../../src/http/ws-setup.js";
import { Recorder } from "./helpers/recorder.js";
import { Waiter, writeItemsProject } from "./helpers/e2e.js";

t.test("a failed commit is rolled back in the live results too", async (t) => {
  const dir = t.testdir();
  const project = writeItemsProject(dir, { byK: "SELECT * FROM items WHERE k = :k::int ORDER BY id LIMIT 3" });
  const runtime = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir: project, dataDir: join(dir, "data"), workers: 1, durability: "full", log: () => undefined });
  const live = attachLive(runtime, { log: () => undefined });
  t.teardown(async () => {
    live.close();
    await runtime.stop();
  });
  const waiter = new Waiter();
  live.live.onFlush(() => waiter.poke());
  const put = (id: string, k: number): Promise<unknown> => runtime.command("item", "put", id, { id, k }, undefined);
  await put("a", 1);
  await put("b", 1);

  const rec = new Recorder();
  rec.begin(live.live.subscribe({ view: "items", query: "byK", params: { k: 1 } }, rec));
  t.same(rec.keys(), ["a", "b"]);
  const stream = rec.stream;

  runtime.failNextCommit(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
  await t.rejects(put("aa", 1), { code: "ERR_DISK_FULL" });
  await waiter.until(() => rec.resets.length === 1 && !rec.pending, "the reset and the new snapshot");
  t.same(rec.changes, [], "no change message for the lost write");
  t.match(rec.resets[0], /a commit failed and was rolled back/);
  t.same(rec.keys(), ["a", "b"], "the snapshot is the stored result");
  t.not(rec.stream, stream, "a new stream starts");

  await put("c", 1);
  await waiter.until(() => rec.changes.length === 1, "the next commit's change");
  t.same(rec.keys(), ["a", "b", "c"]);
  t.same(runtime.query("items", "byK", { k: "1" }).rows.map((r) => r["id"]), ["a", "b", "c"], "the live result equals the one-shot query");
});
