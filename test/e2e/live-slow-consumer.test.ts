// A client that stops reading is cut off with close code 4008 and a reason
// once its send buffer passes the limit (never silently skipped), while a
// client on the same subscription that reads keeps getting every change and
// writers keep being acknowledged.
import t from "tap";
import WebSocket from "ws";
import { CLOSE_CODES } from "../../src/client/protocol.js";
import { Waiter, writeItemsProject } from "../live/helpers/e2e.js";
import { startCalyx } from "./helpers.js";

t.test("a slow consumer is closed with 4008; a fast one on the same query misses nothing", async (t) => {
  const dir = t.testdir();
  const server = await startCalyx(["run", writeItemsProject(dir, { all: "SELECT * FROM items WHERE color = :color" }), "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const url = `${server.url.replace("http", "ws")}/_calyx/ws`;
  const waiter = new Waiter();
  const open = async (): Promise<WebSocket> => {
    const ws = new WebSocket(url);
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "subscribe", sub: "s", view: "items", query: "all", params: { color: "red" } }));
    return ws;
  };
  const slow = await open();
  const fast = await open();
  let fastSeq = 0;
  let fastGaps = 0;
  const messages = (d: unknown): { type: string; seq?: number }[] => {
    const parsed = JSON.parse(String(d)) as { type: string; seq?: number } | { type: string; seq?: number }[];
    return Array.isArray(parsed) ? parsed : [parsed];
  };
  fast.on("message", (d) => {
    for (const m of messages(d)) {
      if (m.type !== "change") continue;
      if (m.seq !== fastSeq + 1) fastGaps++;
      fastSeq = m.seq ?? 0;
    }
    waiter.poke();
  });
  let slowClose: { code: number; reason: string } | undefined;
  let slowSeq = 0;
  slow.on("message", (d) => {
    for (const m of messages(d)) if (m.type === "change") slowSeq = m.seq ?? slowSeq;
  });
  slow.on("close", (code, reason) => { slowClose = { code, reason: reason.toString() }; waiter.poke(); });
  await new Promise((r) => setImmediate(r));
  // Stop reading: the kernel buffers fill, then the server's buffer for this socket.
  (slow as unknown as { _socket: { pause(): void } })._socket.pause();

  const big = "x".repeat(100_000);
  let acked = 0;
  const writes = 400;
  for (let i = 0; i < writes; i++) {
    const res = await fetch(`${server.url}/items/i${i % 50}`, { method: "POST", body: JSON.stringify({ color: "red", n: i, big }) });
    if (res.status === 200) acked++;
  }
  t.equal(acked, writes, "every write was acknowledged while a client was stuck");
  await waiter.until(() => fastSeq === writes, "the fast client to get every change");
  t.equal(fastGaps, 0, "no gap in the fast client's sequence");

  (slow as unknown as { _socket: { resume(): void } })._socket.resume();
  await waiter.until(() => slowClose !== undefined, "the slow client's close");
  t.equal(slowClose?.code, CLOSE_CODES.SLOW_CONSUMER);
  t.match(slowClose?.reason, /^slow consumer: more than \d+ bytes unsent; reconnect and resume$/);
  t.ok(slowSeq < writes, `the slow client got ${slowSeq} of ${writes} changes, in order, then the close`);
  fast.close();
});
