// Calyx client library (src/client), bundled for browsers by test/client/build-bundle.ts. Do not edit.

// src/client/errors.ts
var CalyxError = class extends Error {
  name = "CalyxError";
  /** ERR_* from the server, or ERR_DISCONNECTED / ERR_TIMEOUT / ERR_CLOSED from the client. */
  code;
  status;
  errorId;
  /** Whether trying again may succeed (the socket dropped, the server was busy). */
  retryable;
  constructor(code, message, options = {}) {
    super(message);
    this.code = code;
    this.status = options.status;
    this.errorId = options.errorId;
    this.retryable = code === "ERR_DISCONNECTED" || code === "ERR_TIMEOUT" || options.status === 503;
  }
};

// src/client/result-set.ts
var OutOfSyncError = class extends Error {
  name = "OutOfSyncError";
  code = "ERR_OUT_OF_SYNC";
};
var ResultSet = class {
  #entries = [];
  /** The rows, in the query's order. */
  get rows() {
    return this.#entries.map((e) => e.row);
  }
  /** Keys (entity ids) and rows, in the query's order. */
  get entries() {
    return this.#entries;
  }
  get size() {
    return this.#entries.length;
  }
  reset(rows) {
    this.#entries = rows.map((r) => ({ key: r.key, row: r.row }));
  }
  /** Applies one change message's ops. Throws OutOfSyncError if they do not fit the current rows. */
  apply(ops) {
    const present = /* @__PURE__ */ new Set();
    for (const e of this.#entries) present.add(e.key);
    const out = /* @__PURE__ */ new Set();
    for (const op of ops) {
      const had = present.has(op.key);
      if (op.op === "add" ? had : !had) throw new OutOfSyncError(`change '${op.op}' of key ${JSON.stringify(op.key)} does not fit the current result`);
      if (out.has(op.key)) throw new OutOfSyncError(`key ${JSON.stringify(op.key)} appears twice in one change`);
      out.add(op.key);
    }
    const kept = out.size === 0 ? this.#entries : this.#entries.filter((e) => !out.has(e.key));
    let last = -1;
    for (const op of ops) {
      if (op.op === "remove") continue;
      if (op.index <= last || op.index > kept.length) throw new OutOfSyncError(`change '${op.op}' of key ${JSON.stringify(op.key)} has index ${op.index}, out of order or past the end (${kept.length})`);
      last = op.index;
      kept.splice(op.index, 0, { key: op.key, row: op.row });
    }
    this.#entries = kept;
  }
};

// src/client/live-query.ts
var LiveQuery = class {
  view;
  query;
  params;
  #result = new ResultSet();
  #host;
  #onChange;
  #stream;
  #seq = 0;
  #closed = false;
  #error;
  #ready;
  #resolveReady;
  #rejectReady;
  /** The name of the current server-side subscription (changes with each resubscribe). */
  sub = "";
  /** @internal Created by CalyxClient.subscribe. */
  constructor(host, view, query, params, onChange) {
    this.#host = host;
    this.view = view;
    this.query = query;
    this.params = params;
    this.#onChange = onChange;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => void 0);
  }
  /** The rows, in the query's order. */
  get rows() {
    return this.#result.rows;
  }
  /** Keys (entity ids) with their rows, in the query's order. */
  get entries() {
    return this.#result.entries;
  }
  /** The last change's sequence number in the current stream. */
  get seq() {
    return this.#seq;
  }
  /** Set when the server ended the subscription. */
  get error() {
    return this.#error;
  }
  get closed() {
    return this.#closed;
  }
  /** Resolves once the first snapshot arrived (rejects if the subscription failed). */
  ready() {
    return this.#ready;
  }
  /** Stops the subscription. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.unsubscribe(this);
  }
  /** @internal Where to resume from after a reconnect (undefined: no snapshot yet). */
  resumePoint() {
    return this.#stream === void 0 ? void 0 : { stream: this.#stream, seq: this.#seq };
  }
  /** @internal A server message for this subscription. */
  receive(m) {
    if (this.#closed) return;
    switch (m.type) {
      case "snapshot":
        this.#result.reset(m.rows);
        this.#stream = m.stream;
        this.#seq = m.seq;
        this.#resolveReady();
        this.#emit({ kind: "snapshot", rows: this.#result.rows });
        return;
      case "resumed":
        if (m.stream !== this.#stream || m.seq !== this.#seq) this.#resync();
        return;
      case "change":
        if (m.seq !== this.#seq + 1) {
          this.#resync();
          return;
        }
        try {
          this.#result.apply(m.ops);
        } catch (error) {
          if (error instanceof OutOfSyncError) {
            this.#resync();
            return;
          }
          throw error;
        }
        this.#seq = m.seq;
        this.#emit({ kind: "change", rows: this.#result.rows, ops: m.ops });
        return;
      case "reset":
        this.#stream = void 0;
        return;
      case "unsubscribed":
        return;
    }
  }
  /** @internal The server ended this subscription. */
  fail(error) {
    this.#error = error;
    this.#closed = true;
    this.#rejectReady(error);
  }
  /** Starts over with a fresh snapshot (under a new name, so stray messages of the old one are ignored). */
  #resync() {
    this.#stream = void 0;
    this.#host.unsubscribe(this);
    this.#host.subscribe(this, void 0);
  }
  #emit(event) {
    this.#onChange?.(event.rows, event);
  }
};

// src/client/protocol.ts
var PROTOCOL_VERSION = 1;
var WS_PATH = "/_calyx/ws";
var CLOSE_CODES = {
  /** The client did not read fast enough: its send buffer passed the limit. Reconnect and resume. */
  SLOW_CONSUMER: 4008,
  /** The server is shutting down. Reconnect (elsewhere, or later) and resume. */
  GOING_AWAY: 1001,
  /** A message was larger than the server accepts (set by uWebSockets.js). */
  TOO_BIG: 1009
};

// src/client/client.ts
var OPEN = 1;
var CalyxClient = class {
  url;
  #options;
  #socket;
  #status = "connecting";
  #closedByUser = false;
  #attempt = 0;
  #nextId = 1;
  #nextSub = 1;
  #pending = /* @__PURE__ */ new Map();
  /** Messages waiting for the socket to open. */
  #outbox = [];
  #live = /* @__PURE__ */ new Set();
  #bySub = /* @__PURE__ */ new Map();
  #reconnectTimer;
  #host = {
    subscribe: (q, resume) => this.#subscribeQuery(q, resume),
    unsubscribe: (q) => this.#unsubscribeQuery(q)
  };
  /** `url`: the service's base URL (http(s):// or ws(s)://); the /_calyx/ws path is added when missing. */
  constructor(url, options = {}) {
    const u = new URL(url);
    if (u.protocol === "http:") u.protocol = "ws:";
    if (u.protocol === "https:") u.protocol = "wss:";
    if (!u.pathname.endsWith(WS_PATH)) u.pathname = u.pathname.replace(/\/$/, "") + WS_PATH;
    this.url = u.toString();
    this.#options = options;
    void this.#connect();
  }
  get status() {
    return this.#status;
  }
  /** Runs a command on an entity; resolves with its reply once the write is durable. */
  call(component, command, key, body) {
    return this.#request((id) => ({ type: "call", id, component, command, key, body }));
  }
  /** Runs a view query once (JSON parameters). */
  async query(view, query, params = {}) {
    const result = await this.#request((id) => ({ type: "query", id, view, query, params }));
    return result;
  }
  /**
   * Subscribes to a live query: `rows` holds the current result in the
   * query's order; `onChange` runs after the snapshot and after every change.
   */
  subscribe(view, query, params = {}, onChange) {
    const q = new LiveQuery(this.#host, view, query, params, onChange);
    this.#live.add(q);
    this.#subscribeQuery(q, void 0);
    return q;
  }
  /** Closes the socket for good; pending calls fail with ERR_CLOSED. */
  close() {
    this.#closedByUser = true;
    clearTimeout(this.#reconnectTimer);
    this.#failPending("ERR_CLOSED", "the client was closed");
    this.#socket?.close(1e3, "client closed");
    this.#setStatus("closed");
  }
  #subscribeQuery(q, resume) {
    if (q.closed) return;
    this.#bySub.delete(q.sub);
    q.sub = `s${this.#nextSub++}`;
    this.#bySub.set(q.sub, q);
    const m = { type: "subscribe", sub: q.sub, view: q.view, query: q.query, params: { ...q.params } };
    if (resume !== void 0) m.resume = resume;
    this.#send(JSON.stringify(m));
  }
  #unsubscribeQuery(q) {
    if (this.#bySub.get(q.sub) === q) {
      this.#bySub.delete(q.sub);
      if (this.#socket?.readyState === OPEN) this.#send(JSON.stringify({ type: "unsubscribe", sub: q.sub }));
    }
    if (q.closed) this.#live.delete(q);
  }
  #request(make) {
    if (this.#closedByUser) return Promise.reject(new CalyxError("ERR_CLOSED", "the client was closed"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timeoutMs = this.#options.requestTimeoutMs ?? 3e4;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CalyxError("ERR_TIMEOUT", `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#send(JSON.stringify(make(id)));
    });
  }
  #send(text) {
    if (this.#socket?.readyState === OPEN) this.#socket.send(text);
    else this.#outbox.push(text);
  }
  async #connect() {
    this.#setStatus("connecting");
    let Ctor;
    try {
      Ctor = this.#options.WebSocket ?? await defaultWebSocket();
    } catch (error) {
      this.#setStatus("closed", { code: 0, reason: `no WebSocket implementation: ${error.message}` });
      return;
    }
    if (this.#closedByUser) return;
    const socket = new Ctor(this.url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.#setStatus("open");
      const queued = this.#outbox;
      this.#outbox = [];
      const subscribes = new Set(queued.filter((t) => t.startsWith('{"type":"subscribe"')));
      for (const q of this.#live) if (q.resumePoint() !== void 0) this.#subscribeQuery(q, q.resumePoint());
      for (const text of queued) {
        if (subscribes.has(text)) {
          const sub = JSON.parse(text).sub;
          if (!this.#bySub.has(sub)) continue;
        }
        socket.send(text);
      }
    };
    socket.onmessage = (ev) => {
      const text = typeof ev.data === "string" ? ev.data : new TextDecoder().decode(ev.data);
      const parsed = JSON.parse(text);
      if (Array.isArray(parsed)) for (const m of parsed) this.#receive(m);
      else this.#receive(parsed);
    };
    socket.onerror = () => void 0;
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = void 0;
      this.#failPending("ERR_DISCONNECTED", `the connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ""}); the request may or may not have run`);
      for (const q of this.#live) if (q.resumePoint() === void 0 && !q.closed) this.#outbox.push(this.#resubscribeText(q));
      if (this.#closedByUser || this.#options.reconnect === false) {
        this.#setStatus("closed", { code: ev.code, reason: ev.reason });
        return;
      }
      this.#setStatus("connecting", { code: ev.code, reason: ev.reason });
      const base = this.#options.reconnectDelayMs ?? 100;
      const max = this.#options.reconnectDelayMaxMs ?? 5e3;
      const delay = Math.min(max, base * 2 ** this.#attempt++) * (0.5 + Math.random() / 2);
      this.#reconnectTimer = setTimeout(() => void this.#connect(), delay);
    };
  }
  #resubscribeText(q) {
    this.#bySub.delete(q.sub);
    q.sub = `s${this.#nextSub++}`;
    this.#bySub.set(q.sub, q);
    return JSON.stringify({ type: "subscribe", sub: q.sub, view: q.view, query: q.query, params: { ...q.params } });
  }
  #receive(m) {
    switch (m.type) {
      case "reply":
      case "result":
      case "error": {
        if (m.type === "error" && m.sub !== void 0) {
          const q = this.#bySub.get(m.sub);
          if (q !== void 0) {
            this.#bySub.delete(m.sub);
            this.#live.delete(q);
            q.fail(new CalyxError(m.code, m.message, { status: m.status, errorId: m.errorId }));
          }
          return;
        }
        if (typeof m.id !== "number") return;
        const p = this.#pending.get(m.id);
        if (p === void 0) return;
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
  #failPending(code, message) {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new CalyxError(code, message));
      this.#pending.delete(id);
    }
  }
  #setStatus(status, detail) {
    this.#status = status;
    this.#options.onStatus?.(status, detail);
  }
};
async function defaultWebSocket() {
  const g = globalThis.WebSocket;
  if (g !== void 0) return g;
  const name = "ws";
  const mod = await import(name);
  return mod.default;
}
export {
  CLOSE_CODES,
  CalyxClient,
  CalyxError,
  LiveQuery,
  OutOfSyncError,
  PROTOCOL_VERSION,
  ResultSet,
  WS_PATH
};
