// Supervision with real worker threads: a worker that crashes, runs out of
// memory or never returns is replaced; only its running command fails, the
// commands queued behind it run on the replacement, and state is untouched.
import t, { type Test } from "tap";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";
import type { LogFn } from "../../src/host/logger.js";

const PROJECT = {
  src: {
    "acct.ts": `import { keyValueEntity } from "calyx";
export const acct = keyValueEntity({
  name: "acct",
  initialState: () => ({ n: 0 }),
  commands: {
    inc: { handler: (s, _c, ctx) => ctx.update({ n: s.n + 1 }).reply(s.n + 1) },
    get: { handler: (s, _c, ctx) => ctx.reply(s) },
    crash: { handler: () => { process.exit(3); } },
    hog: { handler: () => { const a = []; for (;;) a.push(new Array(1e5).fill(Math.random())); } },
    spin: { timeoutMs: 200, handler: () => { for (;;) {} } },
  },
});
`,
  },
};

async function start(t: Test, workers = 1) {
  const dir = t.testdir(PROJECT);
  const lines: string[] = [];
  const log: LogFn = (level, msg, fields) => { lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`); };
  const rt = await Runtime.start({ ...RUNTIME_DEFAULTS, projectDir: dir, dataDir: `${dir}/data`, workers, durability: "none", workerHeapMb: 48, log });
  t.teardown(() => rt.stop());
  return { rt, lines };
}

for (const [command, code, logged] of [
  ["crash", "ERR_WORKER_RESTARTED", /worker exited with code 3/],
  ["hog", "ERR_WORKER_RESTARTED", /worker crashed: .*memory/i],
  ["spin", "ERR_HANDLER_TIMEOUT", /acct\.spin ran past its 200 ms timeout/],
] as const) {
  t.test(`${command}: the worker is replaced; queued commands run; state is intact`, async (t) => {
    const { rt, lines } = await start(t);
    t.equal(await rt.command("acct", "inc", "a", undefined, undefined), 1);
    const bad = rt.command("acct", command, "a", undefined, undefined);
    // Queued behind the bad command on the same (only) worker.
    const queued = rt.command("acct", "inc", "b", undefined, undefined);
    await t.rejects(bad, { code });
    t.equal(await queued, 1, "the queued command ran on the replacement worker");
    t.same(await rt.command("acct", "get", "a", undefined, undefined), { n: 1 }, "state written before is intact");
    t.match(lines.join("\n"), logged);
  });
}

// Commands sent in one turn of the event loop reach the worker as one batch,
// and its answers leave together: a bad command in the middle of a batch must
// fail alone, and the ones before it (answered, but never sent) run again on
// the replacement — exactly once, since nothing of theirs was committed.
for (const [command, code] of [["crash", "ERR_WORKER_RESTARTED"], ["spin", "ERR_HANDLER_TIMEOUT"]] as const) {
  t.test(`${command} in the middle of a batch: only it fails; the others run once`, async (t) => {
    const { rt } = await start(t);
    const before = rt.command("acct", "inc", "c", undefined, undefined);
    const bad = rt.command("acct", command, "a", undefined, undefined);
    const after = rt.command("acct", "inc", "d", undefined, undefined);
    await t.rejects(bad, { code });
    t.equal(await before, 1, "the command before it in the batch succeeded");
    t.equal(await after, 1, "the command after it ran on the replacement");
    t.same(await rt.command("acct", "get", "c", undefined, undefined), { n: 1 }, "and was applied once");
  });
}

t.test("other workers keep serving while one is stuck", async (t) => {
  const { rt } = await start(t, 2);
  const stuck = rt.command("acct", "spin", "s", undefined, undefined).then(() => "ok", (e: { code: string }) => e.code);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => rt.command("acct", "inc", `k${i}`, undefined, undefined).then(() => "ok", (e: { code: string }) => e.code)));
  t.equal(await stuck, "ERR_HANDLER_TIMEOUT");
  t.ok(results.filter((r) => r === "ok").length >= 1, "entities on the healthy worker were served");
  t.ok(results.every((r) => r === "ok" || r === "ERR_WORKER_RESTARTED"), "nothing else failed");
});

/** Resolves with `p`, or fails once the deadline passes first. */
async function withDeadline<T>(p: Promise<T>, what: string, deadlineMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

t.test("an idle server sets no watchdog timer; work sets it again and a stuck handler is still caught", async (t) => {
  const { rt } = await start(t);
  t.equal(await rt.command("acct", "inc", "a", undefined, undefined), 1);
  await withDeadline(rt.whenUnwatched(), "the watchdog clearing its timer");
  t.notOk(rt.watching, "no timer once nothing is in flight");
  const stuck = rt.command("acct", "spin", "a", undefined, undefined);
  t.ok(rt.watching, "sending a command sets it");
  await t.rejects(stuck, { code: "ERR_HANDLER_TIMEOUT" });
  t.equal(await rt.command("acct", "inc", "a", undefined, undefined), 2, "the replacement serves");
  await withDeadline(rt.whenUnwatched(), "the watchdog clearing its timer again");
  t.notOk(rt.watching, "and it is cleared again after");
});
