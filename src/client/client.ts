// The Calyx client: commands, queries and live subscriptions over one
// WebSocket (/_calyx/ws), reconnecting on its own and resuming subscriptions
// where they left off. Works in browsers (the global WebSocket) and in Node
// (the `ws` package, loaded on demand).
//
// @example
// const calyx = new CalyxClient("http://localhost:9000");
// await calyx.call("customer", "create", "c1", { name: "Ann", email: "ann@example.com" });
// const anns = calyx.subscribe("customers", "byName", { name: "Ann" }, (rows) => render(rows));
// await anns.ready();
import { CalyxError } from "./errors.js";
import { LiveQuery, type LiveEvent, type LiveQueryHost } from "./live-query.js";
import { WS_PATH, type ClientMessage, type Row, type ServerMessage } from "./protocol.js";

/** The subset of the WebSocket API the client uses (browser WebSocket and `ws` both have it). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = new (url: string) => SocketLike;

export type ClientStatus = "connecting" | "open" | "closed";

export interface ClientOptions {
  /** WebSocket implementation; default: the global WebSocket, else the `ws` package. */
  readonly WebSocket?: SocketFactory;
  /** Reconnect after an unexpected close (default true), with exponential backoff. */
  readonly reconnect?: boolean;
  readonly reconnectDelayMs?: number;
  readonly reconnectDelayMaxMs?: number;
  /** Calls and queries fail with ERR_TIMEOUT after this long (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Connection status changes, and why the socket closed (the server's close code and reason). */
  readonly onStatus?: (status: ClientStatus, detail?: { code: number; reason: string }) => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: CalyxError): void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

export class CalyxClient {
  readonly url: string;
  readonly #options: ClientOptions;
  #socket: SocketLike | undefined;
  #status: ClientStatus = "connecting";
  #closedByUser = false;
  #attempt = 0;
  #nextId = 1;
  #nextSub = 1;
  readonly #pending = new Map<number, Pending>();
  /** Messages waiting for the socket to open. */
  #outbox: string[] = [];
  readonly #live = new Set<LiveQuery<Row>>();
  readonly #bySub = new Map<string, LiveQuery<Row>>();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #host: LiveQueryHost = {
    subscribe: (q, resume) => this.#subscribeQuery(q, resume),
    unsubscribe: (q) => this.#unsubscribeQuery(q),
  };

  /** `url`: the service's base URL (http(s):// or ws(s)://); the /_calyx/ws path is added when missing. */
  constructor(url: string, options: ClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol === "http:") u.protocol = "ws:";
    if (u.protocol === "https:") u.protocol = "wss:";
    if (!u.pathname.endsWith(WS_PATH)) u.pathname = u.pathname.replace(/\/$/, "") + WS_PATH;
    this.url = u.toString();
    this.#options = options;
    void this.#connect();
  }

  get status(): ClientStatus {
    return this.#status;
  }

  /** Runs a command on an entity; resolves with its reply once the write is durable. */
  call<T = unknown>(component: string, command: string, key: string, body?: unknown): Promise<T> {
    return this.#request((id) => ({ type: "call", id, component, command, key, body })) as Promise<T>;
  }

  /** Runs a view query once (JSON parameters). */
  async query<R extends Row = Row>(view: string, query: string, params: Record<string, unknown> = {}): Promise<R[]> {
    const result = (await this.#request((id) => ({ type: "query", id, view, query, params }))) as R[];
    return result;
  }

  /**
   * Subscribes to a live query: `rows` holds the current result in the
   * query's order; `onChange` runs after the snapshot and after every change.
   */
  subscribe<R extends Row = Row>(view: string, query: string, params: Record<string, unknown> = {}, onChange?: (rows: readonly R[], event: LiveEvent<R>) => void): LiveQuery<R> {
    const q = new LiveQuery<R>(this.#host, view, query, params, onChange);
    this.#live.add(q as unknown as LiveQuery<Row>);
    this.#subscribeQuery(q as unknown as LiveQuery<Row>, undefined);
    return q;
  }

  /** Closes the socket for good; pending calls fail with ERR_CLOSED. */
  close(): void {
    this.#closedByUser = true;
    clearTimeout(this.#reconnectTimer);
    this.#failPending("ERR_CLOSED", "the client was closed");
    this.#socket?.close(1000, "client closed");
    this.#setStatus("closed");
  }

  #subscribeQuery(q: LiveQuery<Row>, resume: { stream: string; seq: number } | undefined): void {
    if (q.closed) return;
    this.#bySub.delete(q.sub);
    q.sub = `s${this.#nextSub++}`;
    this.#bySub.set(q.sub, q);
    const m: ClientMessage = { type: "subscribe", sub: q.sub, view: q.view, query: q.query, params: { ...q.params } };
    if (resume !== undefined) m.resume = resume;
    this.#send(JSON.stringify(m));
  }

  #unsubscribeQuery(q: LiveQuery<Row>): void {
    if (this.#bySub.get(q.sub) === q) {
      this.#bySub.delete(q.sub);
      if (this.#socket?.readyState === OPEN) this.#send(JSON.stringify({ type: "unsubscribe", sub: q.sub } satisfies ClientMessage));
    }
    if (q.closed) this.#live.delete(q);
  }

  #request(make: (id: number) => ClientMessage): Promise<unknown> {
    if (this.#closedByUser) return Promise.reject(new CalyxError("ERR_CLOSED", "the client was closed"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timeoutMs = this.#options.requestTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CalyxError("ERR_TIMEOUT", `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#send(JSON.stringify(make(id)));
    });
  }

  #send(text: string): void {
    if (this.#socket?.readyState === OPEN) this.#socket.send(text);
    else this.#outbox.push(text);
  }

  async #connect(): Promise<void> {
    this.#setStatus("connecting");
    let Ctor: SocketFactory;
    try {
      Ctor = this.#options.WebSocket ?? (await defaultWebSocket());
    } catch (error) {
      this.#setStatus("closed", { code: 0, reason: `no WebSocket implementation: ${(error as Error).message}` });
      return;
    }
    if (this.#closedByUser) return;
    const socket = new Ctor(this.url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.#setStatus("open");
      // Live queries first resume (or start), then whatever was queued while offline.
      const queued = this.#outbox;
      this.#outbox = [];
      const subscribes = new Set(queued.filter((t) => t.startsWith('{"type":"subscribe"')));
      for (const q of this.#live) if (q.resumePoint() !== undefined) this.#subscribeQuery(q, q.resumePoint());
      for (const text of queued) {
        if (subscribes.has(text)) {
          const sub = (JSON.parse(text) as { sub: string }).sub;
          if (!this.#bySub.has(sub)) continue; // superseded by a resume above
        }
        socket.send(text);
      }
    };
    socket.onmessage = (ev) => {
      const text = typeof ev.data === "string" ? ev.data : new TextDecoder().decode(ev.data as ArrayBuffer | Uint8Array);
      const parsed = JSON.parse(text) as ServerMessage | ServerMessage[];
      // A frame holds one message or an array of them (one commit's changes to several subscriptions).
      if (Array.isArray(parsed)) for (const m of parsed) this.#receive(m);
      else this.#receive(parsed);
    };
    socket.onerror = () => undefined; // onclose follows
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#failPending("ERR_DISCONNECTED", `the connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ""}); the request may or may not have run`);
      // Subscriptions that never got a snapshot start over on the next socket.
      for (const q of this.#live) if (q.resumePoint() === undefined && !q.closed) this.#outbox.push(this.#resubscribeText(q));
      if (this.#closedByUser || this.#options.reconnect === false) {
        this.#setStatus("closed", { code: ev.code, reason: ev.reason });
        return;
      }
      this.#setStatus("connecting", { code: ev.code, reason: ev.reason });
      const base = this.#options.reconnectDelayMs ?? 100;
      const max = this.#options.reconnectDelayMaxMs ?? 5_000;
      const delay = Math.min(max, base * 2 ** this.#attempt++) * (0.5 + Math.random() / 2);
      this.#reconnectTimer = setTimeout(() => void this.#connect(), delay);
    };
  }

  #resubscribeText(q: LiveQuery<Row>): string {
    this.#bySub.delete(q.sub);
    q.sub = `s${this.#nextSub++}`;
    this.#bySub.set(q.sub, q);
    return JSON.stringify({ type: "subscribe", sub: q.sub, view: q.view, query: q.query, params: { ...q.params } } satisfies ClientMessage);
  }

  #receive(m: ServerMessage): void {
    switch (m.type) {
      case "reply":
      case "result":
      case "error": {
        if (m.type === "error" && m.sub !== undefined) {
          const q = this.#bySub.get(m.sub);
          if (q !== undefined) {
            this.#bySub.delete(m.sub);
            this.#live.delete(q);
            q.fail(new CalyxError(m.code, m.message, { status: m.status, errorId: m.errorId }));
          }
          return;
        }
        if (typeof m.id !== "number") return;
        const p = this.#pending.get(m.id);
        if (p === undefined) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.type === "reply") p.resolve(m.value);
        else if (m.type === "result") p.resolve(m.rows);
        else p.reject(new CalyxError(m.code, m.message, { status: m.status, errorId: m.errorId }));
        return;
      }
      case "snapshot":
      case "resumed":
      case "change":
      case "reset":
      case "unsubscribed":
        this.#bySub.get(m.sub)?.receive(m);
        return;
      case "welcome":
      case "pong":
        return;
    }
  }

  #failPending(code: string, message: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new CalyxError(code, message));
      this.#pending.delete(id);
    }
  }

  #setStatus(status: ClientStatus, detail?: { code: number; reason: string }): void {
    this.#status = status;
    this.#options.onStatus?.(status, detail);
  }
}

async function defaultWebSocket(): Promise<SocketFactory> {
  const g = (globalThis as { WebSocket?: SocketFactory }).WebSocket;
  if (g !== undefined) return g;
  // Node (before 22): the `ws` package. A variable specifier keeps bundlers from inlining it into browser builds.
  const name = "ws";
  const mod = (await import(name)) as { default: SocketFactory };
  return mod.default;
}
