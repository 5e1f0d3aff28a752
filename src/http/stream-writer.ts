// Writes a streamed HTTP response on uWS with backpressure: write() says when
// uWS is backed up, whenWritable() runs the producer again once it drained,
// and an aborted response (the client went away) stops everything.
import type * as UWS from "uWebSockets.js";
import { statusLine } from "./errors.js";

export class StreamWriter {
  readonly #res: UWS.HttpResponse;
  #aborted = false;
  #ended = false;
  #started = false;
  #onDrain: (() => void) | undefined;
  readonly #onAbort: (() => void)[] = [];
  /** Bytes handed to uWS since it last reported backpressure (0 when it is not backed up). */
  #blockedBytes = 0;
  #blocked = false;

  constructor(res: UWS.HttpResponse) {
    this.#res = res;
    res.onAborted(() => {
      this.#aborted = true;
      for (const f of this.#onAbort) f();
    });
    res.onWritable(() => {
      this.#blocked = false;
      this.#blockedBytes = 0;
      const f = this.#onDrain;
      this.#onDrain = undefined;
      f?.();
      return true;
    });
  }

  /** The client went away (or we closed): stop producing. */
  get aborted(): boolean {
    return this.#aborted;
  }

  get finished(): boolean {
    return this.#aborted || this.#ended;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Bytes buffered by uWS beyond what the client has taken, roughly (0 unless backed up). */
  get blockedBytes(): number {
    return this.#blockedBytes;
  }

  onAbort(f: () => void): void {
    this.#onAbort.push(f);
  }

  /** Writes the status line and headers (before the first chunk). */
  start(status: number, headers: Readonly<Record<string, string>>): void {
    if (this.finished || this.#started) return;
    this.#started = true;
    this.#res.cork(() => {
      this.#res.writeStatus(statusLine(status));
      for (const [k, v] of Object.entries(headers)) this.#res.writeHeader(k, v);
    });
  }

  /** Writes a chunk; false when uWS is backed up (the chunk is kept: call whenWritable before the next). */
  write(chunk: string): boolean {
    if (this.finished) return false;
    let ok = true;
    this.#res.cork(() => {
      ok = this.#res.write(chunk);
    });
    if (!ok || this.#blocked) {
      this.#blocked = true;
      this.#blockedBytes += Buffer.byteLength(chunk);
    }
    return ok;
  }

  /** Runs `f` once uWS can take more. */
  whenWritable(f: () => void): void {
    this.#onDrain = f;
  }

  end(chunk = ""): void {
    if (this.finished) return;
    this.#ended = true;
    this.#res.cork(() => {
      this.#res.end(chunk);
    });
  }

  /** Cuts the connection (the client sees a truncated response, never a silently shortened one). */
  close(): void {
    if (this.finished) return;
    this.#aborted = true;
    this.#res.close();
    for (const f of this.#onAbort) f();
  }
}
