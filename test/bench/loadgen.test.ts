// The open-loop generator against a server slower than the offered rate: the
// step is aborted (requests wait too long for a connection), and the achieved
// rate it reports is what the server answered within the measured window —
// not inflated by the answers drained after the abort.
import t from "tap";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { runJob } from "../../bench/lib/loadgen.js";

t.test("an aborted step reports the rate the server achieved, not more", async (t) => {
  // Each answer takes 50 ms and the generator has 4 connections: the server
  // cannot answer more than 80 requests/s, however fast the machine is.
  const delayMs = 50;
  const connections = 4;
  const ceiling = (connections * 1000) / delayMs;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => setTimeout(() => res.end('{"ok":true}'), delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  const raw = await runJob({
    kind: "open", host: "127.0.0.1", port, serverPids: [], seed: 1,
    workload: { ops: [{ name: "read-id", weight: 1, kind: "get-id" }], dataset: { customers: 10 } },
    rate: 400, warmupMs: 200, durationMs: 3_000, drainMs: 1_000, connections, abortBacklogMs: 400,
  });
  t.ok(raw.aborted, "the step was aborted (the server is 5× too slow)");
  t.ok(raw.windowMs > 0 && raw.windowMs < 3_000, `the window ended at the abort (${raw.windowMs.toFixed(0)} ms)`);
  const achieved = (raw.completedInWindow * 1000) / raw.windowMs;
  t.ok(achieved <= ceiling * 1.25, `achieved ${achieved.toFixed(0)}/s is within what the server can answer (≤ ${ceiling}/s, +25% for the window's edges)`);
});
