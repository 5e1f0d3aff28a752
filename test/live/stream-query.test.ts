// Streamed query responses (src/http/stream-query.ts) on a fake uWS response:
// chunks are read only while the client keeps up, a disconnect stops the scan,
// and an error after the first byte never looks like a complete result.
// Plus: chunked reading (src/live/query-chunks.ts) returns exactly the
// one-shot query's rows for random queries and chunk sizes.
import t from "tap";
import type * as UWS from "uWebSockets.js";
import { LiveQueries } from "../../src/live/live-queries.js";
import { QueryChunks } from "../../src/live/query-chunks.js";
import { liveShape } from "../../src/live/shape.js";
import { makeQueryStreamer } from "../../src/http/stream-query.js";
import { compileView } from "../../src/query/compile-view.js";
import type { ReadTxn } from "../../src/storage/store.js";
import { MemoryTxn } from "../query/helpers/memory-txn.js";
import { Random } from "../query/oracle/random.js";
import { compilableQueries } from "../query/oracle/gen-query.js";
import { randomRow, randomSchema } from "../query/oracle/schema.js";
import { FakeSource } from "./helpers/fake-source.js";

class FakeRes {
  status = "";
  readonly headers: Record<string, string> = {};
  readonly chunks: string[] = [];
  ended = false;
  closed = false;
  writable = true;
  aborted: (() => void) | undefined;
  drained: (() => boolean) | undefined;
  onAborted(cb: () => void): this { this.aborted = cb; return this; }
  onWritable(cb: () => boolean): this { this.drained = cb; return this; }
  cork(cb: () => void): this { cb(); return this; }
  writeStatus(s: string): this { this.status = s; return this; }
  writeHeader(k: string, v: string): this { this.headers[k] = v; return this; }
  write(c: string): boolean { this.chunks.push(c); return this.writable; }
  end(c = ""): this { this.chunks.push(c); this.ended = true; return this; }
  close(): this { this.closed = true; return this; }
  get body(): string { return this.chunks.join(""); }
}

function setup(maxRows?: number) {
  const source = new FakeSource([{ name: "items", table: "items", queries: { byColor: { sql: "SELECT * FROM items WHERE color = :color ORDER BY n", ...(maxRows ? { maxRows } : {}) } } }]);
  for (let i = 0; i < 10; i++) source.commit([{ view: "items", pk: `i${i}`, row: { color: "red", n: i } }]);
  let reads = 0;
  const runtime = {
    view: (name: string) => source.view(name),
    read: <T>(fn: (txn: ReadTxn) => T): T => { reads++; return source.read(fn); },
    viewStatus: () => [],
    countQuery: () => undefined,
  };
  const streamer = makeQueryStreamer(runtime, new LiveQueries(source), { log: () => undefined, sendBufferBytesMax: 1_000_000, chunkRows: 3 });
  const request = (res: FakeRes, accept = "", params: Record<string, string> = { color: "red" }) =>
    streamer.handle(res as unknown as UWS.HttpResponse, { view: "items", query: "byColor", params, headers: { accept } });
  return { source, request, reads: () => reads };
}

t.test("rows are read only as fast as the client takes them; a disconnect stops the scan", async (t) => {
  const { request, reads } = setup();
  const res = new FakeRes();
  res.writable = false;
  t.equal(request(res, "application/x-ndjson"), true);
  t.equal(res.status, "200 OK");
  const afterFirst = reads();
  t.equal(res.body.split("\n").length - 1, 3, "one chunk of 3 rows, then it waits");
  res.drained?.();
  t.equal(reads(), afterFirst + 1, "one more chunk per drain");
  t.equal(res.body.split("\n").length - 1, 6);
  res.aborted?.();
  res.drained?.();
  t.equal(reads(), afterFirst + 1, "nothing is read after the client left");
  t.notOk(res.ended);
});

t.test("a client that keeps up gets everything, as a JSON array", async (t) => {
  const { request } = setup();
  const res = new FakeRes();
  request(res);
  t.ok(res.ended);
  t.same((JSON.parse(res.body) as { n: number }[]).map((r) => r.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

t.test("errors: before the first byte a JSON error; after it, NDJSON says so and a JSON array is cut", async (t) => {
  const missing = new FakeRes();
  setup().request(missing, "application/x-ndjson", {});
  t.equal(missing.status, "400 Bad Request");
  t.match(JSON.parse(missing.body), { error: { code: "ERR_PARAM_MISSING" } });

  const capped = setup(4);
  const nd = new FakeRes();
  capped.request(nd, "application/x-ndjson");
  const lines = nd.body.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(lines.length, 4, "3 rows, then the error line");
  t.match(lines[3], { error: { code: "ERR_TOO_MANY_ROWS" } });
  t.ok(nd.ended);

  const arr = new FakeRes();
  capped.request(arr);
  t.ok(arr.closed, "the connection is cut");
  t.notOk(arr.ended);
  t.throws(() => JSON.parse(arr.body), "what was sent does not parse as a (shorter) result");
});

t.test("chunked reads equal the one-shot query for random queries and chunk sizes", async (t) => {
  let compared = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const r = new Random(seed * 31 + 7);
    const schema = randomSchema(r);
    const txn = new MemoryTxn();
    const found = compilableQueries(r, schema, "t", 6, 6);
    const queries: Record<string, { sql: string }> = Object.fromEntries([...found].map(([name, q]) => [name, { sql: q.sql }]));
    const gens = [...found].map(([name, q]) => ({ name, params: q.gen.params }));
    const view = compileView({ name: "v", table: "t", queries });
    for (let i = 0; i < 25; i++) view.applyRowChange(txn, `k${i}`, { ...randomRow(r, schema), id: `k${i}` });
    for (const g of gens) {
      const q = view.queries[g.name];
      if (q === undefined) continue;
      let expected: unknown;
      try {
        expected = [...q.execute(txn, g.params)];
      } catch {
        continue;
      }
      const chunks = new QueryChunks((fn) => fn(txn), liveShape(view, q), g.params);
      const got: unknown[] = [];
      const size = r.int(1, 4);
      while (!chunks.done) got.push(...chunks.next(size));
      t.same(got, expected, `seed ${seed} ${q.sql}`);
      compared++;
    }
  }
  t.ok(compared > 300, `${compared} queries compared`);
});
