// `calyx run` listens once its first workers have loaded the project; the
// others start then and take their share of the entities when they have
// loaded (docs/host.md "Start-up"). Every entity is served from the first
// response on, and none loses a write when it moves to a worker that joined.
import t from "tap";
import { join } from "node:path";
import { workersAtStart } from "../../src/host/worker-start.js";
import { copyProject, json, outputLines, startCalyx } from "./helpers.js";

t.test("the workers left out of the start join after it; writes before, during and after are all kept", async (t) => {
  const dir = t.testdir();
  const project = copyProject("customer-registry", dir);
  const workers = 3;
  const joining = workers - workersAtStart(workers);
  const server = await startCalyx(["run", project, "--port", "0", "--data", join(dir, "data"), "--workers", String(workers)], 20_000);
  const post = async (id: string, name: string): Promise<number> =>
    (await fetch(`${server.url}/customers/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, email: `${id}@x.io` }) })).status;
  // Written from the first moment on, while the others may still be loading.
  const early = await Promise.all(Array.from({ length: 30 }, (_, i) => post(`c${i}`, "Early")));
  t.same([...new Set(early)], [200], "every entity is served at once");
  if (joining > 0) {
    const [joined] = await outputLines(server, /"msg":"3 workers serving \(\d joined \d+ ms after the first\)"/);
    t.match(joined, new RegExp(`${joining} joined`), `${joining} of the ${workers} workers joined after listening (${workersAtStart(workers)} cores' worth at the start)`);
  } else {
    t.pass(`this machine starts all ${workers} workers before listening`);
  }
  const metrics = await (await fetch(`${server.url}/_calyx/metrics`)).text();
  t.match(metrics, /^calyx_workers\{state="serving"\} 3$/m, "the metrics count every worker serving once they have joined");
  t.match(metrics, /^calyx_workers\{state="joining"\} 0$/m);
  const late = await Promise.all(Array.from({ length: 30 }, (_, i) => post(`c${i}`, "Late")));
  t.same([...new Set(late)], [200]);
  const back = await Promise.all(Array.from({ length: 30 }, async (_, i) => json(await fetch(`${server.url}/customers/c${i}`))));
  t.same(back, Array.from({ length: 30 }, (_, i) => ({ name: "Late", email: `c${i}@x.io` })), "each entity has its last write, whichever worker it moved to");
  t.equal((await json(await fetch(`${server.url}/customers/by-name/Late`)) as unknown[]).length, 30, "and the view agrees");
  server.proc.kill("SIGTERM");
  t.equal(await server.exited, 0);
  t.notMatch(server.output(), /"level":"error"/);
});
