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
  t.ok(raw.windowMs > 0 && raw.windowMs < 3_000, `the step stopped early (a window of ${raw.windowMs.toFixed(0)} ms, not the 3,000 planned)`);
  const achieved = (raw.completedInWindow * 1000) / raw.windowMs;
  t.ok(achieved <= ceiling * 1.25, `achieved ${achieved.toFixed(0)}/s is within what the server can answer (≤ ${ceiling}/s, +25% for the window's edges)`);
});

t.test("a step saturated just after its window began measures the drain, not a sliver of the window", async (t) => {
  // The server never answers: the 4 connections fill at once, the fifth
  // request queues at 40 ms and has waited 300 ms at ≈ 340 ms — the abort,
  // ≈ 230 ms into a window that began after 100 ms of warm-up. Those 230 ms
  // hold too few answers (and no CPU tick of the server) to say anything, so
  // the step measures the drain that follows instead, as it does when the
  // abort comes during the warm-up.
  const server = createServer(() => { /* never answers */ });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const drainMs = 1_000;
  const raw = await runJob({
    kind: "open", host: "127.0.0.1", port, serverPids: [], seed: 1,
    workload: { ops: [{ name: "read-id", weight: 1, kind: "get-id" }], dataset: { customers: 10 } },
    rate: 100, warmupMs: 100, durationMs: 5_000, drainMs, connections: 4, abortBacklogMs: 300,
  });
  t.ok(raw.aborted, "the step was aborted");
  t.ok(raw.windowMs >= drainMs * 0.9, `the window is the drain after the abort (${raw.windowMs.toFixed(0)} ms), not the part of the window before it`);
  t.equal(raw.completedInWindow, 0, "nothing was answered");
  t.ok(raw.unsent + raw.timedOut > 0, "the requests left waiting are charged (lower bounds)");
});
