// The gateway's framing, on fake sockets over an in-memory live source: one
// commit's changes to a socket's subscriptions leave as one frame of UTF-8
// JSON, whatever its size (the frame buffer grows, and shrinks back after a
// huge frame), and each frame holds only that commit's messages.
import t from "tap";
import { LiveQueries } from "../../src/live/live-queries.js";
import { WsGateway, WS_DEFAULTS, type Conn } from "../../src/http/ws-gateway.js";
import { FakeSource } from "../live/helpers/fake-source.js";

function setup(): { source: FakeSource; gateway: WsGateway; socket: () => { conn: Conn; frames: unknown[] } } {
  const source = new FakeSource([{ name: "items", table: "items", queries: { byColor: "SELECT * FROM items WHERE color = :color" } }]);
  const live = new LiveQueries(source, { resumeGraceMs: 60_000 });
  live.start();
  const gateway = new WsGateway({ command: async () => null }, live, { ...WS_DEFAULTS, serverName: "test", log: () => {} });
  const socket = (): { conn: Conn; frames: unknown[] } => {
    const frames: unknown[] = [];
    const conn = gateway.opened({
      getBufferedAmount: () => 0,
      // The gateway reuses a binary frame's buffer: decode it now, as a socket copies it.
      send: (text, isBinary) => {
        if (isBinary) throw new Error("a binary frame");
        frames.push(JSON.parse(typeof text === "string" ? text : Buffer.from(text).toString("utf8")));
        return 1;
      },
      end: () => {},
    });
    return { conn, frames };
  };
  return { source, gateway, socket };
}

const subscribe = (gateway: WsGateway, conn: Conn, sub: string, color: string): void => {
  gateway.received(conn, JSON.stringify({ type: "subscribe", sub, view: "items", query: "byColor", params: { color } }));
};

t.test("a commit's changes to several subscriptions of a socket: one frame, byte-exact UTF-8", async (t) => {
  const { source, gateway, socket } = setup();
  const a = socket();
  const b = socket();
  subscribe(gateway, a.conn, "red", "red");
  subscribe(gateway, a.conn, "blue", "blue");
  subscribe(gateway, b.conn, "red-too", "red");
  a.frames.length = 0;
  b.frames.length = 0;
  const name = "Zoë 東京 🎉 \u2028 \"q\" \\";
  source.commit([
    { view: "items", pk: "i1", row: { color: "red", name } },
    { view: "items", pk: "i2", row: { color: "blue", name } },
  ]);
  t.same(a.frames, [[
    { type: "change", sub: "red", seq: 1, ops: [{ op: "add", key: "i1", index: 0, row: { color: "red", name } }] },
    { type: "change", sub: "blue", seq: 1, ops: [{ op: "add", key: "i2", index: 0, row: { color: "blue", name } }] },
  ]]);
  t.same(b.frames, [
    { type: "change", sub: "red-too", seq: 1, ops: [{ op: "add", key: "i1", index: 0, row: { color: "red", name } }] },
  ], "a single message is a frame of its own, not an array");
  source.commit([{ view: "items", pk: "i1", row: { color: "blue", name: "x" } }]);
  t.same(a.frames.at(-1), [
    { type: "change", sub: "red", seq: 2, ops: [{ op: "remove", key: "i1" }] },
    { type: "change", sub: "blue", seq: 2, ops: [{ op: "add", key: "i1", index: 0, row: { color: "blue", name: "x" } }] },
  ], "the next commit's frame holds only its own messages");
});

t.test("frames far larger than the buffer, then small ones again", async (t) => {
  const { source, gateway, socket } = setup();
  const s = socket();
  for (let i = 0; i < 8; i++) subscribe(gateway, s.conn, `s${i}`, "red");
  s.frames.length = 0;
  for (const size of [100, 200_000, 3_000_000, 10]) {
    const text = "é".repeat(size); // two bytes each in UTF-8
    source.commit([{ view: "items", pk: `p${size}`, row: { color: "red", text } }]);
    const frame = s.frames.at(-1) as { sub: string; ops: { row: { text: string } }[] }[];
    t.equal(frame.length, 8, `${size}: one message per subscription`);
    t.ok(frame.every((m, i) => m.sub === `s${i}` && m.ops[0]?.row.text === text), `${size}: every row intact`);
  }
});

t.test("frames staged while a commit syncs: sent as staged, or framed again when subscriptions came or went meanwhile", async (t) => {
  const { source, gateway, socket } = setup();
  const [a, b, c, d] = [socket(), socket(), socket(), socket()];
  subscribe(gateway, a.conn, "r1", "red");
  subscribe(gateway, a.conn, "r2", "red");
  subscribe(gateway, b.conn, "r", "red");
  subscribe(gateway, c.conn, "r", "red");
  subscribe(gateway, d.conn, "r", "red");
  source.commit([{ view: "items", pk: "i0", row: { color: "red", n: 0 } }]);
  const stream = (d.frames.find((f) => (f as { type?: string }).type === "snapshot") as { stream: string }).stream;
  gateway.received(d.conn, JSON.stringify({ type: "unsubscribe", sub: "r" })); // d saw seq 1, then left
  for (const s of [a, b, c, d]) s.frames.length = 0;

  const inFlight = source.begin([{ view: "items", pk: "i1", row: { color: "red", n: 1 } }]);
  t.same([a.frames, b.frames, c.frames, d.frames], [[], [], [], []], "nothing is sent before the commit is durable");
  // Meanwhile: a leaves one of its two subscriptions; b adds one; c closes; d resumes from seq 1.
  gateway.received(a.conn, JSON.stringify({ type: "unsubscribe", sub: "r2" }));
  gateway.received(b.conn, JSON.stringify({ type: "subscribe", sub: "late", view: "items", query: "byColor", params: { color: "red" } }));
  gateway.socketClosed(c.conn);
  gateway.received(d.conn, JSON.stringify({ type: "subscribe", sub: "r", view: "items", query: "byColor", params: { color: "red" }, resume: { stream, seq: 1 } }));
  t.same(d.frames, [{ type: "resumed", sub: "r", stream, seq: 1 }], "the resume holds the durable changes only");
  inFlight.settle(true);

  const change = (sub: string): unknown => ({ type: "change", sub, seq: 2, ops: [{ op: "add", key: "i1", index: 1, row: { color: "red", n: 1 } }] });
  t.same(a.frames, [{ type: "unsubscribed", sub: "r2" }, change("r1")], "a subscription left meanwhile gets nothing after its ack");
  t.same(b.frames.flat().map((f) => (f as { type: string }).type), ["change", "snapshot"], "the held change, then the new subscriber's snapshot");
  t.same((b.frames.flat()[1] as { rows: { key: string }[] }).rows.map((r) => r.key), ["i0", "i1"], "the snapshot includes the commit");
  t.same(c.frames, [], "a socket closed meanwhile gets nothing");
  t.same(d.frames, [{ type: "resumed", sub: "r", stream, seq: 1 }, change("r")], "the resumed subscription gets the held change");

  // A failed commit: no change, a reset and the snapshot read again.
  for (const s of [a, b, d]) s.frames.length = 0;
  source.begin([{ view: "items", pk: "i2", row: { color: "red", n: 2 } }]).settle(false);
  t.same(a.frames.flat().map((f) => (f as { type: string }).type), ["reset", "snapshot"]);
  t.same((a.frames.flat()[1] as { rows: { key: string }[] }).rows.map((r) => r.key), ["i0", "i1"]);
});
