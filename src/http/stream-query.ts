// Streamed answers of query routes (UwsServer's streamQuery option):
//   Accept: text/event-stream    -> Server-Sent Events: snapshot, then live changes (stream-sse.ts)
//   Accept: application/x-ndjson -> one JSON row per line
//   otherwise                    -> a JSON array
// Rows are read in chunks (src/live/query-chunks.ts) and written as they are
// read; when uWS is backed up, reading waits for onWritable; a client that
// disconnects stops the scan. Only list queries stream; single, page and
// COUNT(*) queries (one object) and views being built take the buffered path.
import type * as UWS from "uWebSockets.js";
import { STREAM_CHUNK_ROWS } from "../live/limits.js";
import type { LiveQueries } from "../live/live-queries.js";
import { encodeRows, QueryChunks } from "../live/query-chunks.js";
import type { QueryCache } from "../live/query-cache.js";
import { liveShape } from "../live/shape.js";
import type { CompiledQuery, CompiledView, Row } from "../query/types.js";
import type { ReadTxn } from "../storage/store.js";
import { serveSse, SseStreams } from "./stream-sse.js";
import { StreamWriter } from "./stream-writer.js";
import { errorBody, writeError, type Log } from "./stream-errors.js";

export interface StreamRuntime {
  view(name: string): CompiledView | undefined;
  read<T>(fn: (txn: ReadTxn) => T): T;
  viewStatus(): readonly { readonly table: string; readonly status: "ready" | "building" }[];
  countQuery(view: string, query: string): void;
  /**
   * Has a worker answer a list query (the response body), or null: answer it
   * here. Optional: without it every query runs on this thread.
   */
  offloadQuery?(view: string, query: string, params: Record<string, string>, ndjson: boolean, chunkRows: number): Promise<string | null>;
}

export interface QueryStreamer {
  readonly handle: (res: UWS.HttpResponse, q: { view: string; query: string; params: Record<string, string>; headers: Record<string, string> }) => boolean;
  /** Ends the open SSE streams (server stopping). */
  close(): void;
}

export function makeQueryStreamer(runtime: StreamRuntime, live: LiveQueries, options: { log: Log; sendBufferBytesMax: number; chunkRows?: number; cache?: QueryCache | undefined }): QueryStreamer {
  const sses = new SseStreams();
  const chunkRows = options.chunkRows ?? STREAM_CHUNK_ROWS;
  const handle: QueryStreamer["handle"] = (res, q) => {
    const accept = q.headers["accept"] ?? "";
    const view = runtime.view(q.view);
    const query = view !== undefined && Object.hasOwn(view.queries, q.query) ? view.queries[q.query] : undefined;
    // Unknown queries and views being built: the buffered path has the answers (404, 503 with progress).
    if (view === undefined || query === undefined || runtime.viewStatus().some((v) => v.table === view.table && v.status === "building")) return false;
    if (accept.includes("text/event-stream")) {
      if (query.resultShape !== "list" && query.resultShape !== "single") return false;
      runtime.countQuery(q.view, q.query);
      serveSse(res, { live, sses, view: q.view, query: q.query, params: q.params, lastEventId: q.headers["last-event-id"], log: options.log, sendBufferBytesMax: options.sendBufferBytesMax });
      return true;
    }
    if (query.resultShape !== "list") return false;
    const ndjson = accept.includes("application/x-ndjson");
    const contentType = ndjson ? "application/x-ndjson" : "application/json";
    const offload = runtime.offloadQuery;
    if (offload === undefined) {
      answerHere(res, q, view, query, ndjson, contentType);
      return true;
    }
    // Answers computed by workers are kept until a commit may change them
    // (src/live/query-cache.ts, docs/host.md "Query result cache").
    const cached = options.cache?.lookup(view, query, q.params, ndjson ? "n" : "j");
    if (typeof cached === "string") {
      runtime.countQuery(q.view, q.query);
      writeWhole(res, contentType, cached);
      return true;
    }
    // A worker reads and encodes the rows (docs/host.md "View queries in
    // workers"); what it declines is answered here, streamed as before.
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    offload.call(runtime, q.view, q.query, q.params, ndjson, chunkRows).then((text) => {
      if (cached !== undefined) options.cache?.fill(cached, text);
      if (aborted) return;
      if (text === null) {
        answerHere(res, q, view, query, ndjson, contentType);
        return;
      }
      runtime.countQuery(q.view, q.query);
      writeWhole(res, contentType, text);
    }, () => {
      if (cached !== undefined) options.cache?.fill(cached, null);
      if (!aborted) answerHere(res, q, view, query, ndjson, contentType);
    });
    return true;
  };

  /** Runs a list query on this thread: one write when the result fits in one chunk, else a stream with backpressure. */
  const answerHere = (res: UWS.HttpResponse, q: { view: string; query: string; params: Record<string, string> }, view: CompiledView,
    query: CompiledQuery, ndjson: boolean, contentType: string): void => {
    let chunks: QueryChunks;
    let rows: Row[];
    try {
      chunks = new QueryChunks((fn) => runtime.read(fn), liveShape(view, query), query.coerceParams(q.params));
      rows = chunks.next(chunkRows);
    } catch (error) {
      writeError(new StreamWriter(res), error, options.log);
      return;
    }
    runtime.countQuery(q.view, q.query);
    if (chunks.done) {
      // The whole result in one chunk (most queries): one write, no stream to keep.
      writeWhole(res, contentType, encodeRows(rows, ndjson));
      return;
    }
    const out = new StreamWriter(res);
    let first = true;
    let pending: Row[] | undefined = rows;
    const pump = (): void => {
      while (!out.finished) {
        let rows: Row[];
        try {
          rows = pending ?? chunks.next(chunkRows);
          pending = undefined;
        } catch (error) {
          if (first) writeError(out, error, options.log);
          else if (ndjson) out.end(JSON.stringify({ error: errorBody(error, options.log) }) + "\n");
          else out.close(); // a JSON array cut short must not parse as a shorter result
          return;
        }
        let text: string;
        if (ndjson) text = rows.map((r) => JSON.stringify(r) + "\n").join("");
        else {
          text = (first ? "[" : rows.length > 0 ? "," : "") + rows.map((r) => JSON.stringify(r)).join(",");
          if (chunks.done) text += "]";
        }
        if (first) {
          out.start(200, { "content-type": contentType });
          first = false;
        }
        if (chunks.done) {
          out.end(text);
          return;
        }
        if (!out.write(text)) {
          out.whenWritable(pump);
          return;
        }
      }
    };
    pump();
  };
  return { handle, close: () => sses.closeAll() };
}

/** A 200 response written in one go. */
function writeWhole(res: UWS.HttpResponse, contentType: string, body: string): void {
  res.cork(() => {
    res.writeStatus("200 OK").writeHeader("content-type", contentType).end(body);
  });
}
