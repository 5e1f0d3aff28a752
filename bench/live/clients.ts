// The client side of bench/live/live.ts, in its own process: opens sockets,
// subscribes, and records for every change op the write id it carries and
// when it arrived (absolute ms, performance.timeOrigin + now()). Driven over
// IPC by live.ts; not a benchmark by itself.
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

/** This process opens sockets [from, to) of `sockets` and the subscriptions that fall on them. */
interface Setup { url: string; sockets: number; from: number; to: number; subscriptions: number; distinct: number }
type Msg = { t: "setup"; setup: Setup } | { t: "clock"; id: number } | { t: "record"; on: boolean } | { t: "dump"; file: string } | { t: "exit" };

const now = (): number => performance.timeOrigin + performance.now();
/** The write id in a row of a change op (rows are {"k":…,"w":…}). */
const W = /"w":(\d+)/g;
let recording = false;
/** (write id, arrival) pairs in fixed chunks: growing never copies (a long run records tens of millions). */
const CHUNK_PAIRS = 1 << 20;
const chunks: Float64Array[] = [new Float64Array(CHUNK_PAIRS * 2)];
let n = 0;
let messages = 0;
let closes = 0;
const sockets: WebSocket[] = [];

function record(w: number, at: number): void {
  const i = n % CHUNK_PAIRS;
  if (i === 0 && n > 0) chunks.push(new Float64Array(CHUNK_PAIRS * 2));
  const chunk = chunks[chunks.length - 1] as Float64Array;
  chunk[i * 2] = w;
  chunk[i * 2 + 1] = at;
  n++;
}

async function setup(s: Setup): Promise<void> {
  let snapshots = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => { done = r; });
  // Contiguous blocks: the subscribers of one parameter value are on different sockets.
  const perSocket = Math.ceil(s.subscriptions / s.sockets);
  const mine = Math.max(0, Math.min(s.subscriptions, s.to * perSocket) - s.from * perSocket);
  for (let i = s.from; i < s.to; i++) {
    const ws = new WebSocket(`${s.url.replace("http", "ws")}/_calyx/ws`);
    sockets.push(ws);
    ws.on("close", () => { closes++; });
    ws.on("message", (data) => {
      const at = now();
      messages++;
      // Not JSON.parse: the clients share the server's cores, so they only pick
      // out what they measure (snapshots, and the write id "w" in each changed row).
      const text = String(data);
      for (let i = text.indexOf('"type":"snapshot"'); i >= 0; i = text.indexOf('"type":"snapshot"', i + 1)) {
        if (++snapshots === mine) done();
      }
      if (!recording) return;
      for (const m of text.matchAll(W)) record(Number(m[1]), at);
    });
    await new Promise((r) => ws.once("open", r));
  }
  for (let i = s.from * perSocket; i < Math.min(s.subscriptions, s.to * perSocket); i++) {
    const ws = sockets[Math.floor(i / perSocket) - s.from] as WebSocket;
    ws.send(JSON.stringify({ type: "subscribe", sub: `s${i}`, view: "items", query: "byKey", params: { k: i % s.distinct } }));
  }
  if (mine > 0) await all;
}

process.on("message", (m: Msg) => {
  const send = (x: unknown): void => { process.send?.(x); };
  switch (m.t) {
    case "setup":
      void setup(m.setup).then(() => send({ t: "ready" }));
      return;
    case "clock":
      send({ t: "clock", id: m.id, at: now() });
      return;
    case "record":
      recording = m.on;
      send({ t: "recording" });
      return;
    case "dump":
      writeFileSync(m.file, Buffer.concat(chunks.map((c, i) => Buffer.from(c.buffer, 0, Math.min(CHUNK_PAIRS, n - i * CHUNK_PAIRS) * 16))));
      send({ t: "dumped", pairs: n, messages, closes });
      return;
    case "exit":
      for (const ws of sockets) ws.terminate();
      process.exit(0);
  }
});
