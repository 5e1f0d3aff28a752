// The generator's requests follow the target's URLs (bench/lib/dataset.ts
// CustomerPaths): Calyx and the SQLite baseline serve /customers/<id>,
// Restate's virtual object /customer/<id>/get and /customer/<id>/create.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { hasWrk, wrkScript } from "../../bench/lib/throughput.js";
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

t.test("the sweeping wrk script asks for every id and name in order, in wrk itself", { skip: hasWrk() ? false : "wrk is not installed" }, async (t) => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method ?? ""} ${req.url ?? ""}`);
    req.resume();
    req.on("end", () => res.end("{}"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dir = mkdtempSync(join(tmpdir(), "calyx-wrk-"));
  t.teardown(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async (workload: Parameters<typeof wrkScript>[0]): Promise<string[]> => {
    seen.length = 0;
    const file = join(dir, "s.lua");
    writeFileSync(file, wrkScript(workload, 1, true));
    const { port } = server.address() as AddressInfo;
    // One connection: the requests reach the server in the order the script made them.
    await new Promise<void>((resolve, reject) => execFile("wrk", ["-t1", "-c1", "-d1s", "-s", file, `http://127.0.0.1:${port}`], (e) => (e ? reject(e) : resolve())));
    return [...seen];
  };
  const ids = await run({ ops: [{ name: "read-id", weight: 1, kind: "get-id" }], dataset: { customers: 7 } });
  t.ok(ids.length >= 14, `wrk made ${ids.length} requests in 1 s`);
  // wrk calls `request` once while it sets up (that id is not sent), so the sweep may start at 1; from there each request asks for the next id.
  const idNo = (l: string): number => Number(/^GET \/customers\/c(\d+)$/.exec(l)?.[1] ?? NaN);
  const first = ids.slice(0, 14).map(idNo);
  t.ok(first[0] !== undefined && first[0] <= 1, `the sweep starts at the first ids (${String(first[0])})`);
  t.same(first.slice(1), first.slice(0, -1).map((i) => (i + 1) % 7), "each request asks for the next id, wrapping around");
  t.same(new Set(first.slice(0, 7)).size, 7, "the first 7 requests ask for all 7 ids");
  const names = await run({ ops: [{ name: "read-name", weight: 1, kind: "get-name" }], dataset: { customers: 30 } });
  const nameNo = (l: string): number => Number(/^GET \/customers\/by-name\/Name(\d+)$/.exec(l)?.[1] ?? NaN);
  const firstNames = names.slice(0, 6).map(nameNo);
  t.same(firstNames.slice(1), firstNames.slice(0, -1).map((i) => (i + 1) % 3), "the names (30 customers: 3) come in order too");
  // The measured script stays random.
  t.match(wrkScript({ ops, dataset: { customers: 100 } }, 1), "math.random(0, customers - 1)");
  t.notMatch(wrkScript({ ops, dataset: { customers: 100 } }, 1, true), "math.random(0, customers - 1)");
});
