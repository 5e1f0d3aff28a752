// The WebSocket endpoint /_calyx/ws (docs/protocol.md): commands, one-shot
// queries and live subscriptions over one socket, JSON text frames.
//
// Framing: a frame holds one message, or a JSON array of messages (the
// changes one commit made to several subscriptions of a socket go out as one
// frame: one send, one parse on the client). A commit's frames are written
// as UTF-8 into one reused buffer, each change's ops encoded once for all its
// subscribers, not built as strings per message: under bench/live those
// strings were a quarter of what the main thread allocated, and each
// young-generation collection they bring on stalls the commits behind it.
//
// Backpressure: every socket has a bounded send buffer. Before each send the
// gateway checks what uWS still holds for the socket; past
// sendBufferBytesMax the socket is closed with 4008 (CLOSE_CODES.SLOW_CONSUMER)
// and a reason. Nothing is ever dropped while the socket stays open, so a
// client that sees its socket close can resume from the last seq it got.
// (uWS's own maxBackpressure, which skips messages silently, is set far above
// the limit so that it never triggers.)
import type * as UWS from "uWebSockets.js";
import { CLOSE_CODES, PROTOCOL_VERSION, WS_PATH, type ClientMessage, type ServerMessage } from "../client/protocol.js";
import type { HeldChange, LiveQueries, LiveSubscriber, LiveSubscription, Subscribed } from "../live/live-queries.js";
import type { Change, Snapshot } from "../live/pipeline.js";
import type { CallRequest } from "./service.js";
import { toWireError } from "./ws-errors.js";
import { type BadMessageError, parseClientMessage } from "./ws-protocol.js";

export interface WsGatewayOptions {
  /** Bytes uWS may hold for one socket before it is cut off as a slow consumer. */
  readonly sendBufferBytesMax: number;
  /** Live subscriptions one socket may hold. */
  readonly subscriptionsMax: number;
  /** Largest message a client may send (uWS closes the socket on a larger one). */
  readonly messageBytesMax: number;
  /** Seconds without traffic before uWS closes a socket; uWS pings before that. */
  readonly idleTimeoutSeconds: number;
  /** Shown in `welcome`. */
  readonly serverName: string;
  readonly log: (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

export const WS_DEFAULTS = {
  sendBufferBytesMax: 4 * 1024 * 1024,
  subscriptionsMax: 10_000,
  messageBytesMax: 1024 * 1024,
  idleTimeoutSeconds: 120,
};

/** What the gateway calls commands on (the Runtime). */
export interface CommandService {
  command(component: string, command: string, id: string, body: unknown, request: CallRequest): Promise<unknown>;
}

/** uWS never drops a message below this (we cut off far earlier). */
const UWS_BACKPRESSURE_BYTES = 1024 * 1024 * 1024;

const NO_REQUEST: CallRequest = Object.freeze({ params: {}, query: {}, headers: {} });

/** What the gateway needs of a socket: uWS's WebSocket has it; ws-node.ts adapts the `ws` package. */
export interface GatewaySocket {
  getBufferedAmount(): number;
  /**
   * Returns 2 when the message was dropped (uWS's convention). A Uint8Array
   * holds UTF-8 text and is only valid during the call (the gateway reuses
   * it): the socket must copy it before returning.
   */
  send(text: string | Uint8Array, isBinary: boolean, compress: boolean): number | boolean;
  end(code: number, reason: string): void;
}

/** @internal A client connection. */
export interface Conn {
  ws: GatewaySocket | undefined;
  readonly subs: Map<string, LiveSubscription>;
  /**
   * Messages of the commit being processed, sent as one frame at flush, as
   * pairs: (message text, null) or (change prefix, change) — a change message
   * is its subscription's prefix, the seq and the ops (SocketSubscriber).
   */
  out: (string | Change | null)[];
  /**
   * The change messages a prepared commit holds for this socket, as pairs
   * (prefix, change), framed at prepare into the gateway's stage buffer at
   * [stageFrom, stageTo). At flush, if `out` holds exactly these pairs, the
   * staged frame is sent as is; otherwise (a subscription came or went
   * meanwhile, the commit failed, other messages joined) `out` is framed.
   */
  staged: (string | Change)[];
  stageFrom: number;
  stageTo: number;
  closed: boolean;
}

export interface WsStats {
  connections: number;
  slowConsumersCut: number;
  messagesIn: number;
  messagesOut: number;
}

export class WsGateway {
  readonly #commands: CommandService;
  readonly #live: LiveQueries;
  readonly #options: WsGatewayOptions;
  readonly #conns = new Set<Conn>();
  readonly #pending = new Set<Conn>();
  readonly #stats: WsStats = { connections: 0, slowConsumersCut: 0, messagesIn: 0, messagesOut: 0 };
  readonly #frame = new FrameBuffer();
  readonly #encodedChanges = new Map<Change, Buffer>();
  /** The frames of the prepared commit, one after another (Conn.staged). */
  readonly #stage = new FrameBuffer();
  readonly #stagedConns: Conn[] = [];

  constructor(commands: CommandService, live: LiveQueries, options: WsGatewayOptions) {
    this.#commands = commands;
    this.#live = live;
    this.#options = options;
    live.onPrepared((held) => this.#stageCommit(held));
    live.onFlush(() => this.#flush());
  }

  /** Registers /_calyx/ws on the app (call from UwsServer's `extend`). */
  register(app: UWS.TemplatedApp): void {
    app.ws<Conn>(WS_PATH, {
      maxPayloadLength: this.#options.messageBytesMax,
      maxBackpressure: UWS_BACKPRESSURE_BYTES,
      closeOnBackpressureLimit: 0,
      idleTimeout: this.#options.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const conn: Conn = newConn(undefined);
        res.upgrade(conn, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"), req.getHeader("sec-websocket-extensions"), context);
      },
      open: (ws) => {
        const conn = ws.getUserData();
        conn.ws = ws;
        this.#conns.add(conn);
        this.#stats.connections = this.#conns.size;
        const o = this.#options;
        this.#send(conn, { type: "welcome", protocol: PROTOCOL_VERSION, server: o.serverName, limits: { sendBufferBytesMax: o.sendBufferBytesMax, subscriptionsMax: o.subscriptionsMax, messageBytesMax: o.messageBytesMax } });
      },
      message: (ws, data) => {
        this.#stats.messagesIn++;
        // The buffer is only valid during this callback: decode it now.
        this.#message(ws.getUserData(), Buffer.from(data).toString("utf8"));
      },
      close: (ws) => this.#closed(ws.getUserData()),
    });
  }

  /** @internal Transport adapters (ws-node.ts): a socket opened, a message arrived, it closed. */
  opened(socket: GatewaySocket): Conn {
    const conn: Conn = newConn(socket);
    this.#conns.add(conn);
    this.#stats.connections = this.#conns.size;
    const o = this.#options;
    this.#send(conn, { type: "welcome", protocol: PROTOCOL_VERSION, server: o.serverName, limits: { sendBufferBytesMax: o.sendBufferBytesMax, subscriptionsMax: o.subscriptionsMax, messageBytesMax: o.messageBytesMax } });
    return conn;
  }

  /** @internal */
  received(conn: Conn, text: string): void {
    this.#stats.messagesIn++;
    this.#message(conn, text);
  }

  /** @internal */
  socketClosed(conn: Conn): void {
    this.#closed(conn);
  }

  /** Closes every socket with 1001 (the server is stopping); clients reconnect and resume. */
  close(): void {
    for (const conn of [...this.#conns]) this.#end(conn, CLOSE_CODES.GOING_AWAY, "the server is stopping");
  }

  stats(): WsStats {
    return { ...this.#stats };
  }

  #message(conn: Conn, text: string): void {
    let m: ClientMessage;
    try {
      m = parseClientMessage(text);
    } catch (error) {
      const e = error as BadMessageError;
      this.#send(conn, { type: "error", ...(e.id !== undefined ? { id: e.id } : {}), ...(e.sub !== undefined ? { sub: e.sub } : {}), code: "ERR_BAD_MESSAGE", message: e.message, status: 400 });
      return;
    }
    switch (m.type) {
      case "call":
        this.#call(conn, m);
        return;
      case "query":
        try {
          const r = this.#live.query(m.view, m.query, m.params ?? {});
          this.#send(conn, { type: "result", id: m.id, shape: r.shape, rows: r.rows as Record<string, unknown>[] });
        } catch (error) {
          this.#sendError(conn, error, { id: m.id });
        }
        return;
      case "subscribe":
        this.#subscribe(conn, m);
        return;
      case "unsubscribe": {
        const handle = conn.subs.get(m.sub);
        if (handle === undefined) {
          this.#send(conn, { type: "error", sub: m.sub, code: "ERR_UNKNOWN_SUB", message: `no subscription '${m.sub}' on this socket`, status: 404 });
          return;
        }
        handle.close();
        conn.subs.delete(m.sub);
        this.#send(conn, { type: "unsubscribed", sub: m.sub });
        return;
      }
      case "ping":
        this.#send(conn, m.id === undefined ? { type: "pong" } : { type: "pong", id: m.id });
        return;
    }
  }

  #call(conn: Conn, m: Extract<ClientMessage, { type: "call" }>): void {
    this.#commands.command(m.component, m.command, m.key, m.body, NO_REQUEST).then(
      (value) => this.#send(conn, { type: "reply", id: m.id, value: value === undefined ? null : value }),
      (error: unknown) => this.#sendError(conn, error, { id: m.id }),
    );
  }

  #subscribe(conn: Conn, m: Extract<ClientMessage, { type: "subscribe" }>): void {
    if (conn.subs.has(m.sub)) {
      this.#send(conn, { type: "error", sub: m.sub, code: "ERR_SUB_EXISTS", message: `subscription '${m.sub}' already exists on this socket; unsubscribe first or use another name`, status: 409 });
      return;
    }
    if (conn.subs.size >= this.#options.subscriptionsMax) {
      this.#send(conn, { type: "error", sub: m.sub, code: "ERR_TOO_MANY_SUBS", message: `a socket may hold ${this.#options.subscriptionsMax} subscriptions; open another socket or unsubscribe some`, status: 429 });
      return;
    }
    const subscriber = new SocketSubscriber(this, conn, m.sub);
    let subscribed: Subscribed;
    try {
      subscribed = this.#live.subscribe({ view: m.view, query: m.query, params: m.params ?? {}, resume: m.resume }, subscriber);
    } catch (error) {
      this.#sendError(conn, error, { sub: m.sub });
      return;
    }
    conn.subs.set(m.sub, subscribed.subscription);
    const start = subscribed.start;
    if (start.kind === "resumed") {
      this.#send(conn, { type: "resumed", sub: m.sub, stream: start.stream, seq: start.seq });
      for (const c of start.changes) this.#write(conn, subscriber.changeText(c));
      return;
    }
    if (start.resetReason !== null) this.#send(conn, { type: "reset", sub: m.sub, reason: start.resetReason });
    // "pending": the view is being built; the snapshot follows when it is done.
    if (start.kind === "snapshot") this.#write(conn, snapshotText(m.sub, start.snapshot));
  }

  /** @internal From SocketSubscriber: a message to queue until the commit's flush. */
  queue(conn: Conn, text: string): void {
    if (conn.closed) return;
    conn.out.push(text, null);
    this.#pending.add(conn);
  }

  /** @internal From SocketSubscriber: a change message, written out at flush. */
  queueChange(conn: Conn, prefix: string, change: Change): void {
    if (conn.closed) return;
    conn.out.push(prefix, change);
    this.#pending.add(conn);
  }

  /** @internal From SocketSubscriber: the stream restarts; a snapshot follows. */
  reset(conn: Conn, sub: string, reason: string): void {
    this.queue(conn, JSON.stringify({ type: "reset", sub, reason } satisfies ServerMessage));
  }

  /** @internal From SocketSubscriber. */
  snapshot(conn: Conn, sub: string, snapshot: Snapshot): void {
    this.queue(conn, snapshotText(sub, snapshot));
  }

  /** @internal */
  ended(conn: Conn, sub: string, error: unknown): void {
    conn.subs.delete(sub);
    const w = toWireError(error, this.#options.log);
    this.queue(conn, JSON.stringify({ type: "error", sub, code: w.code, message: w.message, status: w.status, ...(w.errorId !== undefined ? { errorId: w.errorId } : {}) } satisfies ServerMessage));
  }

  /**
   * In prepare (inside the commit's transaction, while the disk will sync):
   * frames the held changes for every socket, so that settle only has to
   * check them and send.
   */
  #stageCommit(held: Iterable<HeldChange>): void {
    const stage = this.#stage;
    stage.reset();
    const conns = this.#stagedConns;
    for (const conn of conns) conn.staged.length = 0; // a commit that was never flushed
    conns.length = 0;
    for (const h of held) {
      for (const s of h.to) {
        if (!(s instanceof SocketSubscriber) || s.gateway !== this) continue;
        const conn = s.conn;
        if (conn.closed || conn.ws === undefined) continue;
        if (conn.staged.length === 0) conns.push(conn);
        conn.staged.push(s.prefix, h.change);
      }
    }
    for (const conn of conns) {
      conn.stageFrom = stage.length;
      this.#frameChanges(stage, conn.staged);
      conn.stageTo = stage.length;
    }
  }

  /** Change messages (prefix, change pairs) as one frame: the message, or a JSON array of them. */
  #frameChanges(frame: FrameBuffer, pairs: readonly (string | Change | null)[]): void {
    if (pairs.length > 2) frame.byte(0x5b); // [
    for (let i = 0; i < pairs.length; i += 2) {
      if (i > 0) frame.byte(0x2c); // ,
      frame.text(pairs[i] as string);
      const change = pairs[i + 1] as Change | null;
      if (change !== null) frame.append(this.#changeBytes(change));
    }
    if (pairs.length > 2) frame.byte(0x5d); // ]
  }

  /** Sends what a commit queued: one frame per socket (a JSON array when there is more than one message). */
  #flush(): void {
    const frame = this.#frame;
    for (const conn of this.#pending) {
      const out = conn.out;
      if (conn.closed || conn.ws === undefined || out.length === 0) {
        out.length = 0;
        continue;
      }
      if (conn.staged.length > 0 && samePairs(out, conn.staged)) {
        this.#write(conn, this.#stage.subarray(conn.stageFrom, conn.stageTo));
      } else if (out.length === 2 && out[1] === null) {
        this.#write(conn, out[0] as string);
      } else {
        frame.reset();
        this.#frameChanges(frame, out);
        this.#write(conn, frame.bytes());
      }
      out.length = 0;
    }
    this.#pending.clear();
    for (const conn of this.#stagedConns) conn.staged.length = 0;
    this.#stagedConns.length = 0;
    this.#encodedChanges.clear();
  }

  /** The part of a change message after the subscription's prefix, encoded once per commit for all its subscribers. */
  #changeBytes(change: Change): Buffer {
    let bytes = this.#encodedChanges.get(change);
    if (bytes === undefined) this.#encodedChanges.set(change, (bytes = Buffer.from(changeTail(change), "utf8")));
    return bytes;
  }

  #send(conn: Conn, m: ServerMessage): void {
    this.#write(conn, JSON.stringify(m));
  }

  #sendError(conn: Conn, error: unknown, about: { id?: string | number; sub?: string }): void {
    const w = toWireError(error, this.#options.log);
    this.#send(conn, { type: "error", ...about, code: w.code, message: w.message, status: w.status, ...(w.errorId !== undefined ? { errorId: w.errorId } : {}) });
  }

  /** Sends, or cuts the socket off when its buffer is over the limit. False when the socket is gone. */
  #write(conn: Conn, text: string | Uint8Array): boolean {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return false;
    const buffered = ws.getBufferedAmount();
    if (buffered > this.#options.sendBufferBytesMax) {
      this.#stats.slowConsumersCut++;
      this.#options.log("warn", "closing a slow WebSocket client", { bufferedBytes: buffered, limitBytes: this.#options.sendBufferBytesMax });
      this.#end(conn, CLOSE_CODES.SLOW_CONSUMER, `slow consumer: more than ${this.#options.sendBufferBytesMax} bytes unsent; reconnect and resume`);
      return false;
    }
    // 2 = dropped: cannot happen below UWS_BACKPRESSURE_BYTES, but never drop silently.
    if (ws.send(text, false, false) === 2) {
      this.#end(conn, CLOSE_CODES.SLOW_CONSUMER, "slow consumer: a message could not be buffered; reconnect and resume");
      return false;
    }
    this.#stats.messagesOut++;
    return true;
  }

  #end(conn: Conn, code: number, reason: string): void {
    if (conn.closed || conn.ws === undefined) return;
    // end() runs the close handler at once (#closed): the subscriptions go with it.
    conn.ws.end(code, reason);
    this.#closed(conn);
  }

  #closed(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.out.length = 0;
    for (const handle of conn.subs.values()) handle.close();
    conn.subs.clear();
    this.#conns.delete(conn);
    this.#stats.connections = this.#conns.size;
  }
}

/** One subscription on one socket. Small on purpose: there may be 10,000s. */
class SocketSubscriber implements LiveSubscriber {
  readonly gateway: WsGateway;
  readonly conn: Conn;
  readonly #sub: string;
  /** `{"type":"change","sub":"…","seq":` — the part of every change message that does not vary. */
  readonly prefix: string;

  constructor(gateway: WsGateway, conn: Conn, sub: string) {
    this.gateway = gateway;
    this.conn = conn;
    this.#sub = sub;
    this.prefix = `{"type":"change","sub":${JSON.stringify(sub)},"seq":`;
  }

  changeText(c: Change): string {
    return this.prefix + changeTail(c);
  }

  change(c: Change): void {
    this.gateway.queueChange(this.conn, this.prefix, c);
  }

  reset(reason: string): void {
    this.gateway.reset(this.conn, this.#sub, reason);
  }

  snapshot(snapshot: Snapshot): void {
    this.gateway.snapshot(this.conn, this.#sub, snapshot);
  }

  end(error: Error & { code: string }): void {
    this.gateway.ended(this.conn, this.#sub, error);
  }
}

const FRAME_BUFFER_KEEP_BYTES = 1024 * 1024;

/** One frame's UTF-8 bytes, written in place into a buffer that grows and is reused. */
class FrameBuffer {
  #buf = Buffer.allocUnsafeSlow(64 * 1024);
  #n = 0;

  reset(): void {
    this.#n = 0;
    // One huge frame (a big snapshot in a commit's frame) should not stay allocated.
    if (this.#buf.length > FRAME_BUFFER_KEEP_BYTES) this.#buf = Buffer.allocUnsafeSlow(FRAME_BUFFER_KEEP_BYTES);
  }

  text(s: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8; write() would truncate silently.
    this.#reserve(s.length * 3);
    this.#n += this.#buf.write(s, this.#n, "utf8");
  }

  append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#n);
    this.#n += bytes.length;
  }

  byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#n++] = b;
  }

  #reserve(bytes: number): void {
    const need = this.#n + bytes;
    if (need > this.#buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(bigger, 0, 0, this.#n);
      this.#buf = bigger;
    }
  }

  get length(): number {
    return this.#n;
  }

  /** The frame so far; valid until the next reset() or text(). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#n);
  }

  /** Bytes [from, to) written so far; valid until the next reset() or write. */
  subarray(from: number, to: number): Uint8Array {
    return this.#buf.subarray(from, to);
  }
}

function newConn(ws: GatewaySocket | undefined): Conn {
  return { ws, subs: new Map(), out: [], staged: [], stageFrom: 0, stageTo: 0, closed: false };
}

/** Whether two lists of message pairs hold the same items in the same order. */
function samePairs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A change message after its subscription's prefix: the seq and the ops, and the closing brace. */
function changeTail(c: Change): string {
  return `${c.seq},"ops":${c.json}}`;
}

function snapshotText(sub: string, s: Snapshot): string {
  return JSON.stringify({ type: "snapshot", sub, stream: s.stream, seq: s.seq, rows: s.rows as { key: string; row: Record<string, unknown> }[] } satisfies ServerMessage);
}
