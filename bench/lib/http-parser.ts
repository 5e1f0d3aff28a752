// A minimal HTTP/1.1 response parser for the load generator: status line,
// Content-Length or chunked bodies, nothing else. Parsing a small response
// costs one indexOf, one short latin1 string for the head and a couple of
// integer parses. The bytes passed to feed() may be reused by the caller once
// it returns (the generator reads every socket into one shared buffer), so
// whatever the parser keeps — a partial response, bodies when asked for — is
// copied.

const CRLFCRLF = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

/** Called once per complete response; `body` only when bodies were requested. */
export type OnResponse = (status: number, body: Buffer | undefined) => void;

/** Raised for bytes that are not an HTTP/1.1 response. */
export class ProtocolError extends Error {
  readonly code = "ERR_HTTP_PROTOCOL";
}

export class ResponseParser {
  readonly #onResponse: OnResponse;
  readonly #keepBody: boolean;
  #pending: Buffer | undefined;
  #inHead = true;
  #chunked = false;
  /** Content-Length mode: body bytes still to come. */
  #need = 0;
  #status = 0;
  #parts: Buffer[] = [];

  constructor(onResponse: OnResponse, keepBody = false) {
    this.#onResponse = onResponse;
    this.#keepBody = keepBody;
  }

  feed(data: Buffer): void {
    let buf = data;
    if (this.#pending !== undefined) {
      buf = Buffer.concat([this.#pending, data]);
      this.#pending = undefined;
    }
    let off = 0;
    const len = buf.length;
    while (off < len) {
      if (this.#inHead) {
        const end = buf.indexOf(CRLFCRLF, off);
        if (end < 0) break;
        this.#head(buf.toString("latin1", off, end));
        off = end + 4;
        this.#inHead = false;
        if (!this.#chunked && this.#need === 0) {
          this.#emit();
          continue;
        }
      }
      if (this.#chunked) {
        const lineEnd = buf.indexOf(CRLF, off);
        if (lineEnd < 0) break;
        const size = parseInt(buf.toString("latin1", off, lineEnd), 16);
        if (!Number.isFinite(size) || size < 0) throw new ProtocolError("bad chunk size");
        if (size === 0) {
          // Last chunk; this client sends no TE header, so expect no trailers.
          if (len < lineEnd + 4) break;
          off = lineEnd + 4;
          this.#emit();
          continue;
        }
        if (len < lineEnd + 2 + size + 2) break;
        if (this.#keepBody) this.#parts.push(Buffer.from(buf.subarray(lineEnd + 2, lineEnd + 2 + size)));
        off = lineEnd + 2 + size + 2;
        continue;
      }
      const avail = len - off;
      if (avail >= this.#need) {
        if (this.#keepBody) this.#parts.push(Buffer.from(buf.subarray(off, off + this.#need)));
        off += this.#need;
        this.#need = 0;
        this.#emit();
      } else {
        if (this.#keepBody) this.#parts.push(Buffer.from(buf.subarray(off)));
        this.#need -= avail;
        off = len;
      }
    }
    // The caller may reuse `data` once feed returns (a socket's onread buffer): keep a copy.
    if (off < len) this.#pending = Buffer.from(buf.subarray(off));
  }

  #head(head: string): void {
    if (!head.startsWith("HTTP/1.")) throw new ProtocolError(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 40))}`);
    this.#status = (head.charCodeAt(9) - 48) * 100 + (head.charCodeAt(10) - 48) * 10 + (head.charCodeAt(11) - 48);
    const lower = head.toLowerCase();
    const cl = lower.indexOf("\r\ncontent-length:");
    this.#chunked = false;
    this.#need = 0;
    if (cl >= 0) {
      let i = cl + 17;
      while (lower.charCodeAt(i) === 32) i++;
      let n = 0;
      for (let c = lower.charCodeAt(i); c >= 48 && c <= 57; c = lower.charCodeAt(++i)) n = n * 10 + (c - 48);
      this.#need = n;
    } else if (lower.includes("\r\ntransfer-encoding: chunked")) {
      this.#chunked = true;
    }
  }

  #emit(): void {
    let body: Buffer | undefined;
    if (this.#keepBody) {
      body = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
      this.#parts = [];
    }
    this.#inHead = true;
    this.#chunked = false;
    this.#onResponse(this.#status, body);
  }
}
