// Server-Sent Events for a query route (Accept: text/event-stream): the
// snapshot, then the live changes, as a LiveQueries subscription.
//
//   event: snapshot  id: <stream>:<seq>  data: {"seq":N,"rows":[{"key":..,"row":{..}},..]}
//   event: change    id: <stream>:<seq>  data: {"seq":N,"ops":[..]}        (ops as on the WebSocket)
//   event: resumed   id: <stream>:<seq>  data: {"seq":N}                   (Last-Event-ID accepted)
//   event: reset                         data: {"reason":".."}             (a snapshot follows)
//   event: ended                         data: {"code":"ERR_..","message":"..","status":N}
//
// A reconnecting EventSource sends Last-Event-ID: the stream resumes from
// there, or resets with a fresh snapshot. A client that does not read is cut
// off (the connection is closed) once sendBufferBytesMax bytes wait for it;
// EventSource then reconnects and resumes. A comment line every
// SSE_KEEPALIVE_MS keeps idle streams (and the proxies on the way) open.
import type * as UWS from "uWebSockets.js";
import type { LiveQueries, LiveSubscriber, Subscribed } from "../live/live-queries.js";
import type { Change, Snapshot } from "../live/pipeline.js";
import { StreamWriter } from "./stream-writer.js";
import { toWireError } from "./ws-errors.js";
import { writeError, type Log } from "./stream-errors.js";

/** Milliseconds between keep-alive comments on an SSE stream. */
export const SSE_KEEPALIVE_MS = 5_000;

/** The open SSE streams, for keep-alives and shutdown. */
export class SseStreams {
  readonly #open = new Set<StreamWriter>();
  #timer: NodeJS.Timeout | undefined;

  add(out: StreamWriter): void {
    this.#open.add(out);
    out.onAbort(() => this.#open.delete(out));
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        for (const o of this.#open) o.write(": keep-alive\n\n");
        if (this.#open.size === 0) {
          clearInterval(this.#timer);
          this.#timer = undefined;
        }
      }, SSE_KEEPALIVE_MS);
      this.#timer.unref();
    }
  }

  delete(out: StreamWriter): void {
    this.#open.delete(out);
  }

  closeAll(): void {
    for (const o of [...this.#open]) o.end();
    this.#open.clear();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

export interface SseRequest {
  readonly live: LiveQueries;
  readonly sses: SseStreams;
  readonly view: string;
  readonly query: string;
  readonly params: Record<string, string>;
  readonly lastEventId: string | undefined;
  readonly log: Log;
  readonly sendBufferBytesMax: number;
}

function parseEventId(id: string | undefined): { stream: string; seq: number } | undefined {
  if (id === undefined) return undefined;
  const at = id.lastIndexOf(":");
  const seq = Number(id.slice(at + 1));
  return at > 0 && Number.isSafeInteger(seq) && seq >= 0 ? { stream: id.slice(0, at), seq } : undefined;
}

export function serveSse(res: UWS.HttpResponse, r: SseRequest): void {
  const out = new StreamWriter(res);
  let stream = "";
  let handle: Subscribed | undefined;
  const send = (text: string): void => {
    if (out.finished) return;
    out.write(text);
    if (out.blockedBytes > r.sendBufferBytesMax) {
      r.log("warn", "closing a slow SSE client", { bufferedBytes: out.blockedBytes, limitBytes: r.sendBufferBytesMax });
      out.close();
    }
  };
  const subscriber: LiveSubscriber = {
    change: (c: Change) => send(`event: change\nid: ${stream}:${c.seq}\ndata: {"seq":${c.seq},"ops":${c.json}}\n\n`),
    reset: (reason: string) => send(`event: reset\ndata: ${JSON.stringify({ reason })}\n\n`),
    snapshot: (s: Snapshot) => {
      stream = s.stream;
      send(`event: snapshot\nid: ${s.stream}:${s.seq}\ndata: ${JSON.stringify({ seq: s.seq, rows: s.rows })}\n\n`);
    },
    end: (error) => {
      const w = toWireError(error, r.log);
      send(`event: ended\ndata: ${JSON.stringify({ code: w.code, message: w.message, status: w.status })}\n\n`);
      r.sses.delete(out);
      out.end();
    },
  };
  const resume = parseEventId(r.lastEventId);
  try {
    handle = r.live.subscribe({ view: r.view, query: r.query, params: r.params, resume }, subscriber);
  } catch (error) {
    writeError(out, error, r.log);
    return;
  }
  out.onAbort(() => handle?.subscription.close());
  out.start(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
  // Tell EventSource to reconnect quickly after a cut.
  send("retry: 1000\n\n");
  r.sses.add(out);
  const start = handle.start;
  if (start.kind === "resumed") {
    stream = start.stream;
    send(`event: resumed\nid: ${start.stream}:${start.seq}\ndata: {"seq":${start.seq}}\n\n`);
    for (const c of start.changes) subscriber.change(c);
    return;
  }
  if (start.resetReason !== null) subscriber.reset(start.resetReason);
  if (start.kind === "snapshot") subscriber.snapshot(start.snapshot);
}
