// The runtime's gate: while a hot reload switches versions, new commands wait,
// and the work already in flight finishes first — including the calls that an
// endpoint in flight makes to its entities, which must not wait for the gate
// they are holding up.
import t from "tap";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Runtime, RUNTIME_DEFAULTS } from "../../src/host/runtime.js";

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
import { existsSync } from "node:fs";
import { acct } from "./acct.js";
export const api = endpoint({
  name: "api",
  routes: {
    // Holds until the test raises its flag, then calls an entity.
    "POST /held/:id": async (req, ctx) => {
      const deadline = Date.now() + 20_000;
      while (!existsSync(${JSON.stringify(flag)})) {
        if (Date.now() > deadline) throw new Error("the flag never came");
        await new Promise((r) => setTimeout(r, 5));
      }
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
