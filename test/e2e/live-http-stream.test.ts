// Streamed query responses over HTTP: a JSON array (default), NDJSON, and
// Server-Sent Events with the snapshot, live changes and Last-Event-ID resume.
import t, { type Test } from "tap";
import { CalyxClient } from "../../src/client/client.js";
import { Waiter, writeItemsProject } from "../live/helpers/e2e.js";
import { startCalyx, type Running } from "./helpers.js";

const QUERIES = {
  byColor: { sql: "SELECT * FROM items WHERE color = :color", http: "GET /items/by-color/:color" },
  top: { sql: "SELECT name, n FROM items WHERE color = :color ORDER BY n DESC LIMIT 1500", http: "GET /items/top/:color" },
  count: { sql: "SELECT COUNT(*) AS n FROM items WHERE color = :color", http: "GET /items/count/:color" },
};

interface SseEvent { event: string; id: string | undefined; data: Record<string, unknown> }

/** Reads SSE events from a fetch response as they arrive. */
function sseReader(res: Response, waiter: Waiter): { events: SseEvent[]; stop: () => Promise<void> } {
  const events: SseEvent[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const loop = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let at: number;
      while ((at = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const lines = block.split("\n").filter((l) => !l.startsWith(":") && l.includes(":"));
        const fields = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trimStart()]));
        if (fields["event"] !== undefined) events.push({ event: fields["event"], id: fields["id"], data: JSON.parse(fields["data"] ?? "null") as Record<string, unknown> });
        waiter.poke();
      }
    }
  })();
  return { events, stop: async () => { await reader.cancel().catch(() => undefined); await loop; } };
}

async function start(t: Test): Promise<{ server: Running; client: CalyxClient }> {
  const dir = t.testdir();
  const server = await startCalyx(["run", writeItemsProject(dir, QUERIES), "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const client = new CalyxClient(server.url);
  t.teardown(() => client.close());
  return { server, client };
}

t.test("JSON array and NDJSON stream every row, in order, across many chunks", async (t) => {
  const { server, client } = await start(t);
  const n = 1_300;
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) =>
      client.call("item", "put", `i${i + k}`, { name: `n${i + k}`, color: i + k < 1_200 ? "red" : "blue", n: ((i + k) * 7) % 1_000 })));
  }
  const expected = await client.query("items", "top", { color: "red" });
  t.equal(expected.length, 1_200, "more rows than one chunk (512)");

  const array = await fetch(`${server.url}/items/top/red`);
  t.equal(array.status, 200);
  t.equal(array.headers.get("content-type"), "application/json");
  t.same(await array.json(), expected, "the JSON array equals the one-shot query");

  const nd = await fetch(`${server.url}/items/top/red`, { headers: { accept: "application/x-ndjson" } });
  t.equal(nd.headers.get("content-type"), "application/x-ndjson");
  const lines = (await nd.text()).split("\n");
  t.equal(lines.pop(), "", "every line ends with a newline");
  t.same(lines.map((l) => JSON.parse(l) as unknown), expected, "one row per line");

  t.same(await (await fetch(`${server.url}/items/by-color/blue`)).json(), await client.query("items", "byColor", { color: "blue" }));
  t.same(await (await fetch(`${server.url}/items/by-color/none`, { headers: { accept: "application/x-ndjson" } })).text(), "", "no rows: an empty body");
  t.same(await (await fetch(`${server.url}/items/count/red`, { headers: { accept: "application/x-ndjson" } })).json(), { n: 1_200 }, "COUNT(*) answers one JSON object");
  const bad = await fetch(`${server.url}/items/top/red?unused=1`, { headers: { accept: "application/x-ndjson" } });
  t.equal(bad.status, 200);
  await bad.text();
});

t.test("a client that stops reading a big stream and disconnects does not disturb the server", async (t) => {
  const { server, client } = await start(t);
  await Promise.all(Array.from({ length: 1_000 }, (_, i) => client.call("item", "put", `i${i}`, { name: "x".repeat(2_000), color: "red", n: i })));
  const port = Number(new URL(server.url).port);
  const { connect } = await import("node:net");
  const sock = connect(port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  sock.write("GET /items/top/red HTTP/1.1\r\nhost: x\r\naccept: application/x-ndjson\r\n\r\n");
  sock.pause(); // the server's writes back up; it waits on onWritable
  await new Promise((r) => sock.once("readable", r));
  sock.destroy();
  const after = await fetch(`${server.url}/items/top/red`);
  t.equal(after.status, 200);
  t.equal(((await after.json()) as unknown[]).length, 1_000, "the server keeps serving");
});

t.test("SSE: snapshot, live changes with event ids, and resume with Last-Event-ID", async (t) => {
  const { server, client } = await start(t);
  await client.call("item", "put", "a", { name: "a", color: "red", n: 1 });
  const waiter = new Waiter();
  const first = await fetch(`${server.url}/items/by-color/red`, { headers: { accept: "text/event-stream" } });
  t.equal(first.headers.get("content-type"), "text/event-stream");
  const sse = sseReader(first, waiter);
  await waiter.until(() => sse.events.length >= 1, "the snapshot");
  const snap = sse.events[0] as SseEvent;
  t.equal(snap.event, "snapshot");
  t.same(snap.data, { seq: 0, rows: [{ key: "a", row: { name: "a", color: "red", n: 1 } }] });
  t.match(snap.id, /^[\w-]+:0$/);
  await client.call("item", "put", "b", { name: "b", color: "red", n: 2 });
  await waiter.until(() => sse.events.length >= 2, "a change");
  t.match(sse.events[1], { event: "change", id: `${(snap.id ?? "").split(":")[0]}:1`, data: { seq: 1, ops: [{ op: "add", key: "b", index: 1 }] } });
  const lastId = sse.events[1]?.id as string;
  await sse.stop();

  await client.call("item", "put", "a", { name: "a", color: "blue", n: 1 });
  const again = await fetch(`${server.url}/items/by-color/red`, { headers: { accept: "text/event-stream", "last-event-id": lastId } });
  const sse2 = sseReader(again, waiter);
  await waiter.until(() => sse2.events.length >= 2, "resumed + the missed change");
  t.match(sse2.events[0], { event: "resumed", data: { seq: 1 } });
  t.match(sse2.events[1], { event: "change", data: { seq: 2, ops: [{ op: "remove", key: "a" }] } });
  await sse2.stop();

  const stale = await fetch(`${server.url}/items/by-color/red`, { headers: { accept: "text/event-stream", "last-event-id": "gone:3" } });
  const sse3 = sseReader(stale, waiter);
  await waiter.until(() => sse3.events.length >= 2, "reset + snapshot");
  t.same(sse3.events.map((e) => e.event), ["reset", "snapshot"]);
  await sse3.stop();

  const bad = await fetch(`${server.url}/items/top/red?x=1`, { headers: { accept: "text/event-stream" } });
  t.equal(bad.status, 200, "extra query-string parameters are ignored");
  await bad.body?.cancel();
});
