// The runtime's gate: while a hot reload switches versions, new commands wait,
// and the work already in flight finishes first — including the calls that an
// endpoint in flight makes to its entities, which must not wait for the gate
// they are holding up.
import t, { type Test } from "tap";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";
import { hashEntity } from "../../src/host/worker-pool.js";

const ACCT = `import { keyValueEntity } from "calyx";
export const acct = keyValueEntity({
  name: "acct",
  initialState: () => ({ n: 0 }),
  commands: {
    inc: { handler: (s, _c, ctx) => ctx.update({ n: s.n + 1 }).reply(s.n + 1) },
    get: { pure: true, handler: (s, _c, ctx) => ctx.reply(s) },
  },
});
`;

const API = (flag: string) => `import { endpoint } from "calyx";
import { existsSync, watch } from "node:fs";
import { dirname } from "node:path";
import { acct } from "./acct.js";
const FLAG = ${JSON.stringify(flag)};
/** Resolves when the test creates FLAG (a watch on its folder), rejects after 20 s. */
function flagRaised() {
  return new Promise((resolve, reject) => {
    const watcher = watch(dirname(FLAG), () => { if (existsSync(FLAG)) done(resolve); });
    const timer = setTimeout(() => done(() => reject(new Error("the flag never came"))), 20_000);
    const done = (then) => { watcher.close(); clearTimeout(timer); then(); };
    // Raised before the watch began.
    if (existsSync(FLAG)) done(resolve);
  });
}
export const api = endpoint({
  name: "api",
  routes: {
    // Holds until the test raises its flag, then calls an entity.
    "POST /held/:id": async (req, ctx) => {
      await flagRaised();
      return { n: await ctx.client(acct, req.params["id"] ?? "").inc() };
    },
  },
});
`;

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

t.test("an endpoint in flight during a reload finishes its entity calls; the reload waits for it", async (t) => {
  const dir = t.testdir({ src: { "acct.ts": ACCT } });
  const flag = join(dir, "flag");
  writeFileSync(join(dir, "src", "api.ts"), API(flag));
  const rt = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir: dir, dataDir: join(dir, "data"), workers: 1, durability: "full", handlerTimeoutMs: 15_000, log: () => undefined });
  t.teardown(() => rt.stop());
  const held = rt.endpoint("api", "POST /held/:id", { method: "POST", path: "/held/a", params: { id: "a" }, query: {}, headers: {}, body: undefined });
  // Let the endpoint reach its worker before the reload asks the worker to prepare.
  await new Promise((r) => setImmediate(r));
  writeFileSync(join(dir, "src", "acct.ts"), ACCT.replace("s.n + 1) },", "s.n + 1) }, // changed"));
  const reload = rt.reload();
  await until("the reload's gate", () => rt.gated);
  writeFileSync(flag, "");
  t.same(await held, { n: 1 }, "the endpoint's call ran while the gate was up");
  await reload;
  t.equal(rt.gated, false);
  t.same(await rt.command("acct", "get", "a", undefined, undefined), { n: 1 });
});

// A server may load the project in fewer workers than it runs with and start
// the others once it listens (workersAtStart, startRemainingWorkers): they
// take their share of the entities behind the same gate, so an entity changes
// worker only with nothing of it in flight and its writes committed.
const COUNTER = (flag: string) => `import { keyValueEntity } from "calyx";
import { existsSync } from "node:fs";
import { threadId } from "node:worker_threads";
if (existsSync(${JSON.stringify(flag)})) throw new Error("this worker may not load");
export const ctr = keyValueEntity({
  name: "ctr",
  initialState: () => ({ n: 0 }),
  commands: {
    inc: {
      handler: (s, c: { spinMs?: number; until?: string } | undefined, ctx) => {
        // A busy handler keeps a queue of commands on its worker; one told to
        // wait for a file holds its worker until the test creates it.
        for (const end = performance.now() + (c?.spinMs ?? 0); performance.now() < end;);
        for (const end = Date.now() + 20_000; c?.until !== undefined && !existsSync(c.until) && Date.now() < end;);
        return ctx.update({ n: s.n + 1 }).reply({ n: s.n + 1, thread: threadId, version: 1 });
      },
    },
    get: { handler: (s, _c, ctx) => ctx.reply({ n: s.n, thread: threadId, version: 1 }) },
  },
});
`;

async function startStaggered(t: Test, workers: number, atStart: number) {
  const dir = t.testdir({ src: {} });
  const flag = join(dir, "no-more-workers");
  writeFileSync(join(dir, "src", "ctr.ts"), COUNTER(flag));
  const lines: string[] = [];
  const rt = await Runtime.start({
    ...RUNTIME_DEFAULTS, projectDir: dir, dataDir: join(dir, "data"), workers, workersAtStart: atStart, durability: "full",
    log: (level, msg) => { lines.push(`${level} ${msg}`); },
  });
  t.teardown(() => rt.stop());
  return { rt, dir, flag, lines };
}

type Reply = { n: number; thread: number; version: number };
const IDS = Array.from({ length: 40 }, (_, i) => `e${i}`);

t.test("workers joining after the start take their share of the entities; no acknowledged write is lost or doubled", async (t) => {
  const { rt, lines } = await startStaggered(t, 3, 1);
  const threads = async () => new Set(await Promise.all(IDS.map(async (id) => ((await rt.command("ctr", "get", id, undefined, undefined)) as Reply).thread)));
  t.equal((await threads()).size, 1, "one worker serves every entity before the others join");
  const workers = (state: string): number => Number(new RegExp(`^calyx_workers\\{state="${state}"\\} (\\d+)$`, "m").exec(rt.metrics())?.[1]);
  t.same([workers("serving"), workers("joining")], [1, 0], "/_calyx/metrics: one serving");
  // Writes keep coming, on every entity, while the others load and join —
  // several at a time per entity and each taking a while, so that some are
  // queued on the first worker when the others join.
  let stop = false;
  const seen = new Map<string, number[]>(IDS.map((id) => [id, []]));
  const writers = IDS.flatMap((id) => [1, 2, 3, 4].map(async () => {
    while (!stop) {
      const r = (await rt.command("ctr", "inc", id, { spinMs: 0.5 }, undefined)) as Reply;
      seen.get(id)?.push(r.n);
    }
  }));
  const growing = rt.startRemainingWorkers();
  await until("the joining workers in the metrics", () => workers("joining") === 2);
  t.equal(workers("serving"), 1, "the first still serves alone while they load");
  t.equal(await growing, 2, "two workers joined");
  t.same([workers("serving"), workers("joining")], [3, 0], "/_calyx/metrics: three serving");
  // A few more rounds on the new routing, then stop.
  const after = new Map(IDS.map((id) => [id, seen.get(id)?.length ?? 0]));
  await until("writes after the join", () => IDS.every((id) => (seen.get(id)?.length ?? 0) >= (after.get(id) ?? 0) + 8));
  stop = true;
  await Promise.all(writers);
  const wrong: string[] = [];
  for (const id of IDS) {
    const replies = [...(seen.get(id) ?? [])].sort((a, b) => a - b);
    // Each acknowledged write saw every earlier one: the replies are 1, 2, … with no repeat.
    if (replies.some((n, i) => n !== i + 1)) wrong.push(`${id} replied ${replies.join(",")}`);
    const stored = ((await rt.command("ctr", "get", id, undefined, undefined)) as Reply).n;
    if (stored !== replies.length) wrong.push(`${id}: stored ${stored}, acknowledged ${replies.length}`);
  }
  t.same(wrong, [], "every entity holds exactly its acknowledged writes, each of which saw the earlier ones");
  t.equal((await threads()).size, 3, "entities are spread over the three workers");
  t.match(lines.join("\n"), /info 3 workers serving \(2 joined \d+ ms after the first\)/);
  t.equal(await rt.startRemainingWorkers(), 0, "nothing left to start");
  t.notMatch(lines.join("\n"), /^error/m);
});

t.test("an entity moves to a joining worker only once its command in flight has finished and committed", async (t) => {
  const { rt, dir } = await startStaggered(t, 2, 1);
  // An entity the second worker will own, and a command of it holding the first.
  const id = IDS.find((x) => hashEntity("ctr", x) % 2 === 1) ?? "";
  const release = join(dir, "release");
  const held = rt.command("ctr", "inc", id, { until: release }, undefined) as Promise<Reply>;
  const growing = rt.startRemainingWorkers();
  // The joining worker loads while the command runs; the switch waits for it.
  await until("the gate of the join", () => rt.gated);
  const next = rt.command("ctr", "inc", id, undefined, undefined) as Promise<Reply>;
  writeFileSync(release, "");
  const first = await held;
  t.equal(first.n, 1);
  t.equal(await growing, 1);
  const second = await next;
  t.equal(second.n, 2, "the next command saw the held one's write");
  t.not(second.thread, first.thread, "and ran on the worker that joined");
});

t.test("a worker that fails to load after the start is reported; the first ones keep serving", async (t) => {
  const { rt, flag, lines } = await startStaggered(t, 2, 1);
  const before = (await rt.command("ctr", "inc", "e0", undefined, undefined)) as Reply;
  t.equal(before.n, 1);
  writeFileSync(flag, "");
  t.equal(await rt.startRemainingWorkers(), 0, "none joined");
  t.match(rt.metrics(), /^calyx_workers\{state="serving"\} 1\ncalyx_workers\{state="joining"\} 0$/m, "/_calyx/metrics: one serving, none joining");
  t.match(lines.join("\n"), /error a worker starting after the first ones failed to load the project \(.*this worker may not load.*\); serving on 1 worker\(s\)/);
  const replies = await Promise.all(IDS.map(async (id) => (await rt.command("ctr", "inc", id, undefined, undefined)) as Reply));
  t.same(replies.map((r) => r.n), IDS.map((id) => (id === "e0" ? 2 : 1)), "every entity is served");
  t.same([...new Set(replies.map((r) => r.thread))], [before.thread], "by the one worker");
});

t.test("a reload asked for while workers join waits for them, and every worker runs the new version", async (t) => {
  const { rt, dir } = await startStaggered(t, 2, 1);
  const growing = rt.startRemainingWorkers();
  writeFileSync(join(dir, "src", "ctr.ts"), COUNTER(join(dir, "no-more-workers")).replaceAll("version: 1", "version: 2"));
  const reloaded = rt.reload();
  t.equal(await growing, 1);
  await reloaded;
  const replies = await Promise.all(IDS.map(async (id) => (await rt.command("ctr", "get", id, undefined, undefined)) as Reply));
  t.equal(new Set(replies.map((r) => r.thread)).size, 2, "both workers answer");
  t.same([...new Set(replies.map((r) => r.version))], [2], "all on the new version");
});

t.test("stopping while workers join: they stop too, and nothing is reported as a failure", async (t) => {
  const { rt, lines } = await startStaggered(t, 2, 1);
  const growing = rt.startRemainingWorkers();
  await rt.stop();
  t.equal(await growing, 0);
  t.notMatch(lines.join("\n"), /^error/m);
});

t.test("an empty entity id is refused before it reaches a worker", async (t) => {
  const { rt } = await startStaggered(t, 1, 1);
  await t.rejects(rt.command("ctr", "inc", "", undefined, undefined), { code: "ERR_BAD_REQUEST", message: "the entity id is empty" });
});
