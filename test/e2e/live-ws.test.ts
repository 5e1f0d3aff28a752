// The WebSocket protocol and the client library against the real CLI:
// protocol messages and error codes, live results that follow writes,
// resume after a dropped connection, and a server restart (reset + resync).
import t from "tap";
import WebSocket from "ws";
import { CalyxClient } from "../../src/client/client.js";
import type { ServerMessage } from "../../src/client/protocol.js";
import { freePort, recordingSockets, Waiter, writeItemsProject } from "../live/helpers/e2e.js";
import { startCalyx } from "./helpers.js";

const QUERIES = {
  byColor: "SELECT * FROM items WHERE color = :color",
  cheapest: "SELECT id, price FROM items WHERE color = :color ORDER BY price LIMIT 3",
  all: "SELECT * FROM items ORDER BY name LIMIT 100",
};

/** A raw protocol client: send a message, await the next message matching a predicate. */
async function rawSocket(url: string): Promise<{ send: (m: unknown) => void; next: (p: (m: ServerMessage) => boolean) => Promise<ServerMessage>; ws: WebSocket; frames: { text: string; isBinary: boolean }[] }> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/_calyx/ws`);
  const inbox: ServerMessage[] = [];
  const frames: { text: string; isBinary: boolean }[] = [];
  const waiter = new Waiter();
  ws.on("message", (d, isBinary) => {
    frames.push({ text: String(d), isBinary });
    const m = JSON.parse(String(d)) as ServerMessage | ServerMessage[];
    inbox.push(...(Array.isArray(m) ? m : [m]));
    waiter.poke();
  });
  await new Promise((r) => ws.once("open", r));
  return {
    ws,
    frames,
    send: (m) => ws.send(typeof m === "string" ? m : JSON.stringify(m)),
    next: async (p) => {
      let found: ServerMessage | undefined;
      await waiter.until(() => { const i = inbox.findIndex(p); if (i >= 0) [found] = inbox.splice(i, 1); return found !== undefined; }, "a message");
      return found as ServerMessage;
    },
  };
}

t.test("protocol: welcome, call, query, subscribe/unsubscribe, ping, stable error codes", async (t) => {
  const dir = t.testdir();
  const server = await startCalyx(["run", writeItemsProject(dir, QUERIES), "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const c = await rawSocket(server.url);
  t.teardown(() => c.ws.close());
  const welcome = await c.next((m) => m.type === "welcome");
  t.match(welcome, { type: "welcome", protocol: 1, limits: { sendBufferBytesMax: Number } });

  c.send({ type: "subscribe", sub: "red", view: "items", query: "byColor", params: { color: "red" } });
  t.match(await c.next((m) => m.type === "snapshot"), { sub: "red", seq: 0, rows: [] });
  c.send({ type: "call", id: 1, component: "item", command: "put", key: "i1", body: { name: "one", color: "red", price: 5 } });
  t.same(await c.next((m) => m.type === "reply"), { type: "reply", id: 1, value: "ok" });
  t.match(await c.next((m) => m.type === "change"), { sub: "red", seq: 1, ops: [{ op: "add", key: "i1", index: 0, row: { name: "one", color: "red", price: 5 } }] });
  c.send({ type: "query", id: "q", view: "items", query: "byColor", params: { color: "red" } });
  t.same(await c.next((m) => m.type === "result"), { type: "result", id: "q", shape: "list", rows: [{ name: "one", color: "red", price: 5 }] });
  c.send({ type: "unsubscribe", sub: "red" });
  t.same(await c.next((m) => m.type === "unsubscribed"), { type: "unsubscribed", sub: "red" });
  c.send({ type: "ping", id: 7 });
  t.same(await c.next((m) => m.type === "pong"), { type: "pong", id: 7 });

  const errorFor = async (m: unknown): Promise<unknown> => {
    c.send(m);
    return c.next((x) => x.type === "error");
  };
  t.match(await errorFor("{nope"), { code: "ERR_BAD_MESSAGE", status: 400 });
  t.match(await errorFor({ type: "fly", id: 1 }), { code: "ERR_BAD_MESSAGE", id: 1 });
  t.match(await errorFor({ type: "query", id: 2, view: "items" }), { code: "ERR_BAD_MESSAGE", id: 2, message: /"query" must be a non-empty string/ });
  t.match(await errorFor({ type: "query", id: 3, view: "items", query: "nope" }), { code: "ERR_UNKNOWN_QUERY", id: 3, status: 404 });
  t.match(await errorFor({ type: "query", id: 4, view: "items", query: "byColor" }), { code: "ERR_PARAM_MISSING", id: 4, status: 400 });
  t.match(await errorFor({ type: "call", id: 5, component: "item", command: "nope", key: "x" }), { code: "ERR_UNKNOWN_COMMAND", id: 5, status: 404 });
  t.match(await errorFor({ type: "subscribe", sub: "x", view: "items", query: "nope" }), { code: "ERR_UNKNOWN_QUERY", sub: "x" });
  c.send({ type: "subscribe", sub: "dup", view: "items", query: "all" });
  await c.next((m) => m.type === "snapshot");
  t.match(await errorFor({ type: "subscribe", sub: "dup", view: "items", query: "all" }), { code: "ERR_SUB_EXISTS", sub: "dup", status: 409 });
  t.match(await errorFor({ type: "unsubscribe", sub: "ghost" }), { code: "ERR_UNKNOWN_SUB", sub: "ghost" });
  t.match(await errorFor({ type: "subscribe", sub: "r", view: "items", query: "all", resume: { stream: 1 } }), { code: "ERR_BAD_MESSAGE", sub: "r" });
});

for (const transport of ["uws", "node"]) {
  t.test(`one commit's changes to a socket's subscriptions arrive as one UTF-8 text frame (--transport ${transport})`, async (t) => {
    const dir = t.testdir();
    const server = await startCalyx(["run", writeItemsProject(dir, QUERIES), "--port", "0", "--data", `${dir}/data`, "--durability", "none", "--transport", transport]);
    t.teardown(() => { server.proc.kill("SIGKILL"); });
    const c = await rawSocket(server.url);
    t.teardown(() => c.ws.close());
    await c.next((m) => m.type === "welcome");
    c.send({ type: "subscribe", sub: "red", view: "items", query: "byColor", params: { color: "red" } });
    c.send({ type: "subscribe", sub: "all", view: "items", query: "all" });
    await c.next((m) => m.type === "snapshot" && m.sub === "red");
    await c.next((m) => m.type === "snapshot" && m.sub === "all");
    // Two, three and four UTF-8 bytes, and the separators JSON leaves unescaped.
    const name = "Zoë 東京 🎉 \u2028\u2029 \"q\" \\";
    c.send({ type: "call", id: 1, component: "item", command: "put", key: "i1", body: { name, color: "red", price: 5 } });
    await c.next((m) => m.type === "change" && m.sub === "red");
    await c.next((m) => m.type === "change" && m.sub === "all");
    const frame = c.frames.find((f) => f.text.includes('"type":"change"'));
    t.equal(frame?.isBinary, false, "a text frame");
    const messages = JSON.parse(frame?.text ?? "[]") as { sub: string }[];
    t.same(messages.sort((a, b) => a.sub.localeCompare(b.sub)), [
      { type: "change", sub: "all", seq: 1, ops: [{ op: "add", key: "i1", index: 0, row: { name, color: "red", price: 5 } }] },
      { type: "change", sub: "red", seq: 1, ops: [{ op: "add", key: "i1", index: 0, row: { name, color: "red", price: 5 } }] },
    ], "both subscriptions' changes, byte-exact, in one JSON array");
  });
}

t.test("client: a live query follows writes, with many subscriptions on one socket", async (t) => {
  const dir = t.testdir();
  const server = await startCalyx(["run", writeItemsProject(dir, QUERIES), "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const client = new CalyxClient(server.url);
  t.teardown(() => client.close());
  const waiter = new Waiter();
  const colors = ["red", "green", "blue"];
  const byColor = colors.map((color) => client.subscribe("items", "byColor", { color }, () => waiter.poke()));
  const cheapest = colors.map((color) => client.subscribe("items", "cheapest", { color }, () => waiter.poke()));
  await Promise.all([...byColor, ...cheapest].map((q) => q.ready()));
  for (let i = 0; i < 40; i++) {
    const color = colors[i % 3] as string;
    if (i % 7 === 6) await client.call("item", "remove", `i${(i * 5) % 12}`);
    else await client.call("item", "put", `i${i % 12}`, { name: `n${i}`, color, price: (i * 37) % 11 });
    // Changes travel on the same socket, before the reply: the local results are current now.
    for (const [k, color2] of colors.entries()) {
      t.same((byColor[k] as (typeof byColor)[number]).rows, await client.query("items", "byColor", { color: color2 }), `byColor ${color2} after write ${i}`);
      t.same((cheapest[k] as (typeof cheapest)[number]).rows, await client.query("items", "cheapest", { color: color2 }), `cheapest ${color2} after write ${i}`);
    }
  }
  const closed = byColor[0];
  closed?.close();
  await client.call("item", "put", "zz", { name: "zz", color: "red", price: 1 });
  t.notOk(closed?.rows.some((r) => r["name"] === "zz"), "a closed live query stops changing");
  await waiter.until(() => (byColor[0]?.closed ?? false), "closed");
});

t.test("resume after a dropped connection: the missed changes arrive, nothing is reloaded", async (t) => {
  const dir = t.testdir();
  const server = await startCalyx(["run", writeItemsProject(dir, QUERIES), "--port", "0", "--data", `${dir}/data`, "--durability", "none"]);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const waiter = new Waiter();
  const rec = recordingSockets(() => waiter.poke());
  const statuses: string[] = [];
  const client = new CalyxClient(server.url, { WebSocket: rec.factory, reconnectDelayMs: 10, onStatus: (s) => { statuses.push(s); waiter.poke(); } });
  t.teardown(() => client.close());
  const red = client.subscribe("items", "byColor", { color: "red" }, () => waiter.poke());
  await red.ready();
  await client.call("item", "put", "a", { name: "a", color: "red", price: 1 });
  t.equal(red.rows.length, 1);
  const seq = red.seq;

  rec.sockets[0]?.terminate(); // the network drops
  await waiter.until(() => statuses.includes("connecting") && client.status !== "open", "the client to notice");
  // Writes while the client is away (over HTTP).
  const post = (id: string, body: unknown) => fetch(`${server.url}/items/${id}`, { method: "POST", body: JSON.stringify(body) });
  t.equal((await post("b", { name: "b", color: "red", price: 2 })).status, 200);
  t.equal((await post("a", { name: "a", color: "blue", price: 1 })).status, 200);
  await waiter.until(() => red.rows.length === 1 && red.rows[0]?.["name"] === "b", "the missed changes");
  t.ok(rec.received.some((m) => m["type"] === "resumed" && m["seq"] === seq), "the server resumed the stream from the last seq");
  t.equal(rec.received.filter((m) => m["type"] === "snapshot").length, 1, "no second snapshot");
  t.equal(red.seq, seq + 2);
});

t.test("server restart: the client reconnects, gets reset + a fresh snapshot, and keeps following", async (t) => {
  const dir = t.testdir();
  const project = writeItemsProject(dir, QUERIES);
  const port = await freePort();
  const args = ["run", project, "--port", String(port), "--data", `${dir}/data`];
  let server = await startCalyx(args);
  t.teardown(() => { server.proc.kill("SIGKILL"); });
  const waiter = new Waiter();
  const rec = recordingSockets(() => waiter.poke());
  const client = new CalyxClient(server.url, { WebSocket: rec.factory, reconnectDelayMs: 20, reconnectDelayMaxMs: 200, onStatus: () => waiter.poke() });
  t.teardown(() => client.close());
  const all = client.subscribe("items", "all", {}, () => waiter.poke());
  await all.ready();
  await client.call("item", "put", "a", { name: "a", color: "red", price: 1 });
  t.same(all.rows.map((r) => r["name"]), ["a"]);

  server.proc.kill("SIGKILL");
  await server.exited;
  server = await startCalyx(args);
  await waiter.until(() => client.status === "open", "the reconnect");
  await waiter.until(() => rec.received.some((m) => m["type"] === "reset"), "a reset (the new server does not know the stream)");
  await client.call("item", "put", "b", { name: "b", color: "red", price: 2 });
  t.same(all.rows.map((r) => r["name"]), ["a", "b"], "acknowledged data survived; the live result follows the new server");
  t.equal(rec.received.filter((m) => m["type"] === "snapshot").length, 2);
});
