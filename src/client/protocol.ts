// The WebSocket protocol at /_calyx/ws, as types: every message a client
// sends and every message the server sends (docs/protocol.md explains them).
// Declared once, here: the server gateway (src/http/ws-gateway.ts) and this
// client import the same definitions. Pure types and constants, no imports,
// so the client stays usable in browsers.

/** Bumped on an incompatible change; sent in `welcome`. */
export const PROTOCOL_VERSION = 1;

/** The path of the WebSocket endpoint. */
export const WS_PATH = "/_calyx/ws";

/** Close codes the server uses (4000-4999 are the application's). */
export const CLOSE_CODES = {
  /** The client did not read fast enough: its send buffer passed the limit. Reconnect and resume. */
  SLOW_CONSUMER: 4008,
  /** The server is shutting down. Reconnect (elsewhere, or later) and resume. */
  GOING_AWAY: 1001,
  /** A message was larger than the server accepts (set by uWebSockets.js). */
  TOO_BIG: 1009,
} as const;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Row = Record<string, unknown>;

/** Client -> server. `id` is the client's correlation id, echoed in the answer. */
export type ClientMessage =
  | { type: "call"; id: string | number; component: string; command: string; key: string; body?: unknown }
  | { type: "query"; id: string | number; view: string; query: string; params?: Record<string, unknown> }
  | {
      type: "subscribe";
      /** The client's name for this subscription, unique on the socket. */
      sub: string;
      view: string;
      query: string;
      params?: Record<string, unknown>;
      /** Resume a stream after a reconnect: the last `stream` and `seq` received. */
      resume?: { stream: string; seq: number };
    }
  | { type: "unsubscribe"; sub: string }
  | { type: "ping"; id?: string | number };

export interface SnapshotRow {
  key: string;
  row: Row;
}

export type ChangeOp =
  | { op: "remove"; key: string }
  | { op: "add" | "update"; key: string; index: number; row: Row };

/**
 * Server -> client. A frame holds one message, or a JSON array of messages
 * (to be handled in order): the server sends the changes one commit made to
 * several subscriptions of a socket as one frame.
 */
export type ServerMessage =
  | { type: "welcome"; protocol: number; server: string; limits: { sendBufferBytesMax: number; subscriptionsMax: number; messageBytesMax: number } }
  | { type: "reply"; id: string | number; value: unknown }
  | { type: "result"; id: string | number; shape: "list" | "single" | "page" | "count"; rows: Row[] }
  | { type: "snapshot"; sub: string; stream: string; seq: number; rows: SnapshotRow[] }
  | { type: "resumed"; sub: string; stream: string; seq: number }
  | { type: "change"; sub: string; seq: number; ops: ChangeOp[] }
  | { type: "reset"; sub: string; reason: string }
  | { type: "unsubscribed"; sub: string }
  | { type: "pong"; id?: string | number }
  | {
      type: "error";
      /** The request this answers, if any. */
      id?: string | number;
      /** The subscription this ends, if any (no more messages follow for it). */
      sub?: string;
      code: string;
      message: string;
      /** For command errors: the HTTP status the same error would have. */
      status?: number;
      errorId?: string;
    };
