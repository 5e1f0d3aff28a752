// The load generator's response parser: it must find every response whatever
// the read boundaries, and — since the generator reads all sockets into one
// reused buffer — never keep a view of bytes the caller overwrites next.
import t from "tap";
import { ResponseParser } from "../../bench/lib/http-parser.js";

const STREAM = [
  "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 14\r\n\r\n{\"name\":\"Ann\"}",
  "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
  "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
  "HTTP/1.1 503 Service Unavailable\r\nContent-Length:   4\r\nretry-after: 1\r\n\r\nbusy",
].join("");
const EXPECTED: [number, string][] = [[200, "{\"name\":\"Ann\"}"], [404, ""], [201, "hello, world"], [503, "busy"]];

/** Feeds `bytes` in pieces cut at `cuts`, each piece through one buffer that is scribbled over after feed returns. */
function parseInPieces(bytes: Buffer, cuts: number[]): [number, string][] {
  // Bodies are read only at the end: one kept as a view of the reused buffer would show the scribbles.
  const got: [number, Buffer | undefined][] = [];
  const parser = new ResponseParser((status, body) => got.push([status, body]), true);
  const shared = Buffer.alloc(bytes.length);
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const n = bytes.copy(shared, 0, from, to);
    parser.feed(shared.subarray(0, n));
    shared.fill(0x58); // what the next read would do to the bytes the parser was given
    from = to;
  }
  return got.map(([status, body]) => [status, body?.toString("latin1") ?? ""]);
}

t.test("every response is found, with its body, whatever the read boundaries and buffer reuse", async (t) => {
  const bytes = Buffer.from(STREAM, "latin1");
  t.same(parseInPieces(bytes, []), EXPECTED, "one read");
  let wrong = 0;
  for (let cut = 1; cut < bytes.length; cut++) {
    const got = parseInPieces(bytes, [cut]);
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) wrong++;
  }
  t.equal(wrong, 0, "every single split point");
  const everyByte = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
  t.same(parseInPieces(bytes, everyByte), EXPECTED, "one byte per read");
  // Pseudo-random multi-way splits.
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (let i = 0; i < 200; i++) {
    const cuts = [...new Set(Array.from({ length: 1 + rnd(8) }, () => 1 + rnd(bytes.length - 1)))].sort((a, b) => a - b);
    const got = parseInPieces(bytes, cuts);
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) t.fail(`cuts ${cuts.join(",")} gave ${JSON.stringify(got)}`);
  }
});

t.test("without bodies it reports statuses only", async (t) => {
  const statuses: number[] = [];
  const parser = new ResponseParser((status, body) => {
    statuses.push(status);
    if (body !== undefined) t.fail("a body was kept");
  });
  parser.feed(Buffer.from(STREAM, "latin1"));
  t.same(statuses, [200, 404, 201, 503]);
});

t.test("bytes that are not an HTTP/1.x response are refused", async (t) => {
  const parser = new ResponseParser(() => t.fail("no response expected"));
  t.throws(() => parser.feed(Buffer.from("SSH-2.0-OpenSSH_9.2\r\n\r\n")), { code: "ERR_HTTP_PROTOCOL" });
  const chunked = new ResponseParser(() => {});
  t.throws(() => chunked.feed(Buffer.from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n")), { code: "ERR_HTTP_PROTOCOL" });
});
