// Wires live queries into a server: one LiveQueries per Runtime (it survives
// hot reloads with it), the WebSocket gateway, HTTP streaming of query results
// and the project's public/ folder. serve.ts and the testkit call attachLive()
// and pass `extend` / `streamQuery` to UwsServer.
import type * as UWS from "uWebSockets.js";
import { LiveQueries } from "../live/live-queries.js";
import { QUERY_CACHE_DEFAULT_MB, type LiveLimits } from "../live/limits.js";
import { QueryCache } from "../live/query-cache.js";
import type { CacheStats } from "../host/metrics.js";
import type { LiveSource } from "../live/source.js";
import { registerPublicFiles } from "./public-files.js";
import { makeQueryStreamer, type QueryStreamer, type StreamRuntime } from "./stream-query.js";
import { WS_DEFAULTS, WsGateway, type CommandService, type WsGatewayOptions } from "./ws-gateway.js";

export interface AttachOptions extends Partial<Omit<WsGatewayOptions, "log" | "serverName">> {
  readonly log: WsGatewayOptions["log"];
  readonly serverName?: string;
  readonly live?: Partial<LiveLimits>;
  /** A folder of static files to serve at / (the project's public/), if it exists. */
  readonly publicDir?: string;
  /** Read public files on every request (dev mode) instead of once. */
  readonly publicReread?: boolean;
  /** Budget of the query result cache in bytes (`--query-cache-mb`); 0 turns it off. */
  readonly queryCacheBytes?: number;
}

export interface LiveAttachment {
  readonly live: LiveQueries;
  readonly gateway: WsGateway;
  /** Answers of HTTP list queries kept until a commit may change them (undefined: turned off). */
  readonly queryCache: QueryCache | undefined;
  /** Pass as UwsServer's `extend`. */
  extend(app: UWS.TemplatedApp): void;
  /** Pass as UwsServer's `streamQuery`. */
  readonly streamQuery: QueryStreamer["handle"];
  /** Closes the WebSockets (1001) and stops live maintenance. Call before stopping the HTTP server. */
  close(): void;
}

/** What attachLive needs from the runtime. */
export type LiveRuntime = Omit<LiveSource, "building"> & CommandService & StreamRuntime & {
  /** Reports a cache in /_calyx/metrics. */
  addCacheMetrics?(name: string, what: string, stats: () => CacheStats): void;
};

export function attachLive(runtime: LiveRuntime, options: AttachOptions): LiveAttachment {
  const source: LiveSource = {
    onCommit: (listener) => runtime.onCommit(listener),
    view: (name) => runtime.view(name),
    read: (fn) => runtime.read(fn),
    onRoutesChanged: (listener) => runtime.onRoutesChanged(listener),
    building: (table) => runtime.viewStatus().some((v) => v.table === table && v.status === "building"),
  };
  const live = new LiveQueries(source, options.live);
  live.start();
  const gateway = new WsGateway(runtime, live, {
    ...WS_DEFAULTS,
    serverName: options.serverName ?? "calyx",
    ...Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in WS_DEFAULTS)),
    log: options.log,
  });
  const cacheBytes = options.queryCacheBytes ?? QUERY_CACHE_DEFAULT_MB * 2 ** 20;
  const queryCache = cacheBytes > 0 ? new QueryCache(source, { maxBytes: cacheBytes }) : undefined;
  if (queryCache !== undefined) {
    queryCache.start();
    runtime.addCacheMetrics?.("query", "HTTP list queries", () => queryCache.stats());
  }
  const streamer = makeQueryStreamer(runtime, live, { log: options.log, sendBufferBytesMax: options.sendBufferBytesMax ?? WS_DEFAULTS.sendBufferBytesMax, cache: queryCache });
  return {
    live,
    gateway,
    queryCache,
    extend: (app) => {
      gateway.register(app);
      if (options.publicDir !== undefined) {
        const served = registerPublicFiles(app, options.publicDir, { reread: options.publicReread === true });
        if (served.length > 0) options.log("info", `serving ${served.length} public files from ${options.publicDir}`, { publicFiles: served.length });
      }
    },
    streamQuery: streamer.handle,
    close: () => {
      gateway.close();
      streamer.close();
      queryCache?.stop();
      live.stop();
    },
  };
}
