// The generator's requests follow the target's URLs (bench/lib/dataset.ts
// CustomerPaths): Calyx and the SQLite baseline serve /customers/<id>,
// Restate's virtual object /customer/<id>/get and /customer/<id>/create.
import t from "tap";
import { wrkScript } from "../../bench/lib/throughput.js";
import { RESTATE_PATHS } from "../../bench/lib/targets.js";
import { RequestFactory, type OpSpec } from "../../bench/lib/workload.js";

const ops: OpSpec[] = [
  { name: "read-id", weight: 1, kind: "get-id" },
  { name: "write", weight: 1, kind: "post" },
];

function lines(factory: RequestFactory, cls: number, n: number): string[] {
  return Array.from({ length: n }, () => factory.build(cls).split("\r\n")[0] as string);
}

t.test("requests use /customers/<id> by default", async (t) => {
  const f = new RequestFactory({ ops, dataset: { customers: 100 } }, "h", 1);
  for (const l of lines(f, 0, 20)) t.match(l, /^GET \/customers\/c\d+ HTTP\/1\.1$/);
  for (const l of lines(f, 1, 20)) t.match(l, /^POST \/customers\/c\d+ HTTP\/1\.1$/);
});

t.test("requests use the target's paths when it has others (Restate)", async (t) => {
  const f = new RequestFactory({ ops, dataset: { customers: 100, paths: RESTATE_PATHS } }, "h", 1);
  for (const l of lines(f, 0, 20)) t.match(l, /^GET \/customer\/c\d+\/get HTTP\/1\.1$/);
  for (const l of lines(f, 1, 20)) t.match(l, /^POST \/customer\/c\d+\/create HTTP\/1\.1$/);
  const hot = new RequestFactory({ ops: [{ name: "hot", weight: 1, kind: "post", hotId: "hot" }], dataset: { customers: 10, paths: RESTATE_PATHS } }, "h", 1);
  t.equal(lines(hot, 0, 1)[0], "POST /customer/hot/create HTTP/1.1");
});

t.test("the wrk script builds the same URLs", async (t) => {
  const calyx = wrkScript({ ops, dataset: { customers: 100 } }, 1);
  t.match(calyx, 'wrk.format("GET", "/customers/c" .. math.random(0, customers - 1) .. "")');
  t.match(calyx, 'wrk.format("POST", "/customers/" .. "c" .. i .. ""');
  const restate = wrkScript({ ops, dataset: { customers: 100, paths: RESTATE_PATHS } }, 1);
  t.match(restate, 'wrk.format("GET", "/customer/c" .. math.random(0, customers - 1) .. "/get")');
  t.match(restate, 'wrk.format("POST", "/customer/" .. "c" .. i .. "/create"');
});
