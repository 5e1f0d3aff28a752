// The Runtime's rules around the reply cache (docs/host.md "Reply cache"), on
// real workers and LMDB: a pure command's reply is kept only when nothing
// sent to its entity is unanswered or uncommitted, so no reply shows a write
// before it is durable, and a failed write never shows at all.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t, { type Test } from "tap";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";

function project(dir: string): string {
  const root = join(dir, "project");
  mkdirSync(join(root, "src"), { recursive: true });
  writeFileSync(join(root, "src", "box.ts"), `import { keyValueEntity } from "calyx";
export const box = keyValueEntity({
  name: "box",
  initialState: (): { v: number } => ({ v: 0 }),
  commands: {
    set: { handler: (_s, c: { v: number }, ctx) => ctx.update({ v: c.v }).reply("ok") },
    get: { pure: true, handler: (s, _c, ctx) => ctx.reply(s) },
    sneaky: { pure: true, handler: (s, _c, ctx) => ctx.update({ v: s.v + 100 }).reply(s) },
  },
});
`);
  return root;
}

async function start(t: Test): Promise<{ runtime: Runtime; set(id: string, v: number): Promise<unknown>; get(id: string): Promise<unknown>; warnings: string[] }> {
  const dir = t.testdir();
  const warnings: string[] = [];
  const runtime = await Runtime.start({
    ...RUNTIME_DEFAULTS, projectDir: project(dir), dataDir: join(dir, "data"), workers: 1, durability: "full",
    log: (level, msg) => { if (level === "warn") warnings.push(msg); },
  });
  t.teardown(() => runtime.stop());
  return {
    runtime, warnings,
    set: (id, v) => runtime.command("box", "set", id, { v }, undefined),
    get: (id) => runtime.command("box", "get", id, undefined, undefined),
  };
}

const hits = (runtime: Runtime): number => Number(/^calyx_reply_cache_requests_total\{outcome="hit"\} (\d+)$/m.exec(runtime.metrics())?.[1] ?? -1);

t.test("repeated reads are hits until the entity is written", async (t) => {
  const { runtime, set, get } = await start(t);
  await set("a", 1);
  t.same(await get("a"), { v: 1 });
  t.same(await get("a"), { v: 1 });
  t.equal(hits(runtime), 1);
  await set("a", 2);
  t.same(await get("a"), { v: 2 }, "the write dropped the kept reply");
  t.equal(hits(runtime), 1);
});

t.test("a read sent right behind a failing write does not keep its state", async (t) => {
  const { runtime, set, get } = await start(t);
  await set("a", 1);
  runtime.failNextCommit(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
  // Same tick: the worker runs the write, then the read, on its new (never stored) state.
  const w = set("a", 2);
  const r = get("a");
  await t.rejects(w, { code: "ERR_DISK_FULL" });
  await t.rejects(r, { code: "ERR_DISK_FULL" }, "the read saw the lost write: it fails with the write's error rather than show it");
  t.same(await get("a"), { v: 1 }, "the stored state, not the lost write's");
  t.same(await get("a"), { v: 1 });
});

t.test("no reply shows a write before it is durable", async (t) => {
  const { set, get } = await start(t);
  await set("a", 1);
  await get("a"); // kept
  for (let i = 2; i < 40; i++) {
    let durable = false;
    const w = set("a", i).then(() => { durable = true; });
    await get("other"); // the write's outcome has reached the main thread: its commit is in flight
    const during = get("a"); // read while it commits: sees it, and waits for it
    await get("other2"); // that read's reply has reached the main thread
    const seen: unknown[] = [];
    const early = get("a").then((v) => { if (!durable && (v as { v: number }).v === i) seen.push(v); });
    await Promise.all([w, during, early]);
    t.same(seen, [], `write ${i}: no reply showed it before its commit was durable`);
    t.same(await get("a"), { v: i });
  }
});

t.test("a command declared pure that writes is warned about, and its write is kept", async (t) => {
  const { runtime, get, warnings } = await start(t);
  t.same(await runtime.command("box", "sneaky", "a", undefined, undefined), { v: 0 });
  t.same(await get("a"), { v: 100 });
  t.same(await runtime.command("box", "sneaky", "a", undefined, undefined), { v: 100 }, "not answered from a kept reply");
  t.match(warnings, [/box\.sneaky is declared pure but wrote the entity/]);
  t.equal(warnings.length, 1, "warned once");
});

t.test("cachedReplyJson (the HTTP layer's fast path) follows the same rules", async (t) => {
  const { runtime, set, get } = await start(t);
  const json = (id: string): string | undefined => runtime.cachedReplyJson("box", "get", id);
  t.equal(json("a"), undefined, "nothing kept yet");
  await set("a", 1);
  t.equal(json("a"), undefined, "a write keeps nothing");
  await get("a");
  t.equal(json("a"), '{"v":1}');
  t.equal(hits(runtime), 1, "counted as a hit");
  t.equal(runtime.cachedReplyJson("box", "set", "a"), undefined, "not a pure command");
  t.equal(runtime.cachedReplyJson("box", "get", ""), undefined, "an empty id is command's error to give");
  // A write in flight: from its submission on, no kept reply is given.
  let durable = false;
  const w = set("a", 2).then(() => { durable = true; });
  await get("other"); // the write's outcome has reached the main thread: submitted, committing
  t.equal(durable, false);
  t.equal(json("a"), undefined, "the write is submitted: the kept reply is gone");
  await w;
  t.equal(json("a"), undefined, "and stays gone until a read keeps the new one");
  t.same(await get("a"), { v: 2 });
  const gets = (): number => Number(/^calyx_commands_total\{[^}]*command="get"[^}]*outcome="ok"[^}]*\} (\d+)$/m.exec(runtime.metrics())?.[1] ?? -1);
  const before = gets();
  t.equal(json("a"), '{"v":2}');
  t.equal(gets(), before + 1, "a fast-path answer counts as a handled command");
});
