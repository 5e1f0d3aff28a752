// Wires live queries into a server: one LiveQueries per Runtime (it survives
// hot reloads with it), the WebSocket gateway, HTTP streaming of query results
// and the project's public/ folder. serve.ts and the testkit call attachLive()
// and pass `extend` / `streamQuery` to UwsServer.
import type * as UWS from "uWebSockets.js";
import { LiveQueries } from "../live/live-queries.js";
import type { LiveLimits } from "../live/limits.js";
import type { LiveSource } from "../live/source.js";
import { WS_DEFAULTS, WsGateway, type CommandService, type WsGatewayOptions } from "./ws-gateway.js";

export interface AttachOptions extends Partial<Omit<WsGatewayOptions, "log" | "serverName">> {
  readonly log: WsGatewayOptions["log"];
  readonly serverName?: string;
  readonly live?: Partial<LiveLimits>;
}

export interface LiveAttachment {
  readonly live: LiveQueries;
  readonly gateway: WsGateway;
  /** Pass as UwsServer's `extend`. */
  extend(app: UWS.TemplatedApp): void;
  /** Closes the WebSockets (1001) and stops live maintenance. Call before stopping the HTTP server. */
  close(): void;
}

/** What attachLive needs from the runtime. */
export type LiveRuntime = Omit<LiveSource, "building"> & CommandService & {
  viewStatus(): readonly { readonly table: string; readonly status: "ready" | "building" }[];
};

export function attachLive(runtime: LiveRuntime, options: AttachOptions): LiveAttachment {
  const source: LiveSource = {
    onRowChanges: (listener) => runtime.onRowChanges(listener),
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
  return {
    live,
    gateway,
    extend: (app) => gateway.register(app),
    close: () => {
      gateway.close();
      live.stop();
    },
  };
}
