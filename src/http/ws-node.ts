// /_calyx/ws on the node:http transport (--transport node), through the `ws`
// package: the same gateway, protocol and slow-consumer rule as on uWS.
import type { Server } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { WS_PATH } from "../client/protocol.js";
import type { GatewaySocket, WsGateway } from "./ws-gateway.js";

/** Serves the gateway's WebSocket endpoint on a node:http server. */
export function attachNodeWebSocket(server: Server, gateway: WsGateway, messageBytesMax: number): () => void {
  const wss = new WebSocketServer({ server, path: WS_PATH, maxPayload: messageBytesMax });
  wss.on("connection", (socket: WebSocket) => {
    const adapter: GatewaySocket = {
      getBufferedAmount: () => socket.bufferedAmount,
      send: (text) => {
        // The gateway reuses a frame's buffer once send returns; ws may hold it until written.
        if (typeof text === "string") socket.send(text);
        else socket.send(Buffer.from(text), { binary: false });
        return 1;
      },
      end: (code, reason) => socket.close(code, reason),
    };
    const conn = gateway.opened(adapter);
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) gateway.received(conn, data.toString("utf8"));
    });
    socket.on("close", () => gateway.socketClosed(conn));
    socket.on("error", () => gateway.socketClosed(conn));
  });
  return () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  };
}
