import t from "tap";
import { keyValueEntity, view } from "../../src/api/index.js";
import { discover } from "../../src/host/discovery.js";
import { EntityRunner, type StateSource } from "../../src/host/entity-runner.js";
import type { StoredState } from "../../src/storage/store.js";

const counter = keyValueEntity({
  name: "counter",
  initialState: (): { n: number } => ({ n: 0 }),
  commands: {
    inc: { handler: (s, _c, ctx) => ctx.update({ n: s.n + 1 }).reply(s.n + 1) },
    drop: { handler: (_s, _c, ctx) => ctx.delete().reply("dropped") },
    get: { handler: (s, _c, ctx) => ctx.reply(s) },
  },
});
const counters = view({ name: "counters", from: counter, queries: {} });

function setup(stored: Record<string, StoredState> = {}, cacheMax = 10, idleMs = 1000) {
  const reads: string[] = [];
  const source: StateSource = { getState: (c, id) => { reads.push(`${c}/${id}`); return stored[id]; }, getRow: () => undefined };
  const d = discover("/p", [{ file: "/p/src/c.ts", exports: { counter, counters } }]);
  return { runner: new EntityRunner(d.entities, d.views, source, cacheMax, idleMs), reads };
}

t.test("a write carries the sequence it ran on, and the view row", async (t) => {
  const { runner } = setup({ a: { seq: 4, state: { n: 7 } } });
  const r = runner.run("counter", "a", "inc", undefined, undefined);
  t.same(r.reply, { ok: true, value: 8 });
  t.same(r.write, {
    component: "counter", id: "a", baseSeq: 4, state: { value: { n: 8 } },
    events: [{ type: "state", payload: { n: 8 } }], views: [{ table: "counters", pk: "a", row: { n: 8 } }],
  });
  t.equal(runner.run("counter", "a", "inc", undefined, undefined).write?.baseSeq, 5, "pipelined: the next command runs on the new state");
});

t.test("delete removes the view row; a tombstone's sequence continues", async (t) => {
  const { runner } = setup({ a: { seq: 9, state: undefined, deleted: true } });
  t.same(runner.run("counter", "a", "get", undefined, undefined).reply, { ok: true, value: { n: 0 } });
  const d = runner.run("counter", "a", "drop", undefined, undefined);
  t.same(d.write?.state, { deleted: true });
  t.same(d.write?.views, [{ table: "counters", pk: "a", row: null }]);
  t.equal(d.write?.baseSeq, 9);
});

t.test("cache: reads the store once, LRU-bounded, invalidation and passivation reload", async (t) => {
  const { runner, reads } = setup({}, 2, 1000);
  runner.run("counter", "a", "inc", undefined, undefined);
  runner.run("counter", "a", "inc", undefined, undefined);
  t.same(reads, ["counter/a"]);
  runner.run("counter", "b", "get", undefined, undefined);
  runner.run("counter", "c", "get", undefined, undefined);
  t.equal(runner.cachedCount, 2, "bounded");
  runner.run("counter", "a", "get", undefined, undefined);
  t.same(reads, ["counter/a", "counter/b", "counter/c", "counter/a"], "a was evicted as least recently used");
  runner.invalidate("counter", "a");
  runner.run("counter", "a", "get", undefined, undefined);
  t.equal(reads.length, 5);
  t.equal(runner.passivate(performance.now() + 500), 0, "nothing idle yet");
  t.equal(runner.passivate(performance.now() + 5000), 2, "idle entities are passivated");
  t.equal(runner.cachedCount, 0);
  runner.run("counter", "b", "get", undefined, undefined);
  runner.run("counter", "c", "get", undefined, undefined);
  runner.forgetAll();
  t.equal(runner.cachedCount, 0, "forgetAll drops every entity (the pool's routing changed)");
  runner.run("counter", "b", "get", undefined, undefined);
  t.equal(reads.at(-1), "counter/b", "and the next command reads the store again");
});

t.test("cache: a heap more than half full halves it, least recently used first", async (t) => {
  const reads: string[] = [];
  const source: StateSource = { getState: (c, id) => { reads.push(id); return undefined; }, getRow: () => undefined };
  const d = discover("/p", [{ file: "/p/src/c.ts", exports: { counter, counters } }]);
  let heapShare = 0.2;
  const runner = new EntityRunner(d.entities, d.views, source, 100_000, 60_000, () => heapShare);
  for (let i = 0; i < 2_048; i++) runner.run("counter", `e${i}`, "get", undefined, undefined);
  t.equal(runner.cachedCount, 2_048, "a heap with room: everything stays");
  heapShare = 0.9;
  runner.run("counter", "recent", "get", undefined, undefined);
  for (let i = 0; i < 1_023; i++) runner.run("counter", `f${i}`, "get", undefined, undefined);
  t.equal(runner.cachedCount, (2_048 + 1_024) / 2, "the heap was checked after 1,024 misses and the cache halved");
  reads.length = 0;
  runner.run("counter", "recent", "get", undefined, undefined);
  runner.run("counter", "e0", "get", undefined, undefined);
  t.same(reads, ["e0"], "the oldest went; the recently used stayed");
});

t.test("a throwing handler or updater leaves the cache unchanged", async (t) => {
  const bad = keyValueEntity({
    name: "bad", initialState: () => ({ n: 1 }),
    commands: { set: { handler: (_s, c: { n: number }, ctx) => ctx.update({ n: c.n }).reply("ok") } },
  });
  const badView = view({ name: "bads", from: bad, updater: (s) => { if (s.n < 0) throw new Error("negative"); return s; }, queries: {} });
  const d = discover("/p", [{ file: "/p/src/b.ts", exports: { bad, badView } }]);
  const runner = new EntityRunner(d.entities, d.views, { getState: () => undefined, getRow: () => undefined });
  const r = runner.run("bad", "x", "set", { n: -1 }, undefined);
  t.equal(r.reply.ok, false);
  t.equal(r.write, undefined);
  t.equal(runner.run("bad", "x", "set", { n: 2 }, undefined).write?.baseSeq, 0, "the failed command did not advance the state");
});
