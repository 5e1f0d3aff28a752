// The Calyx client library (Node and browsers). See client.ts for an example
// and docs/protocol.md for the protocol underneath.
export { CalyxClient, type ClientOptions, type ClientStatus, type SocketFactory, type SocketLike } from "./client.js";
export { CalyxError } from "./errors.js";
export { LiveQuery, type LiveEvent } from "./live-query.js";
export { ResultSet, OutOfSyncError } from "./result-set.js";
export { CLOSE_CODES, PROTOCOL_VERSION, WS_PATH, type ChangeOp, type ClientMessage, type Row, type ServerMessage, type SnapshotRow } from "./protocol.js";
