// One live subscription on the client: a ResultSet kept in sync with the
// server's stream, resumed after reconnects (or reset with a fresh snapshot).
import type { ChangeOp, Row, ServerMessage } from "./protocol.js";
import { OutOfSyncError, ResultSet } from "./result-set.js";
import type { CalyxError } from "./errors.js";

export type LiveEvent<R> =
  | { readonly kind: "snapshot"; readonly rows: readonly R[] }
  | { readonly kind: "change"; readonly rows: readonly R[]; readonly ops: readonly ChangeOp[] };

export interface LiveQueryHost {
  /** Sends a subscribe for this query under a new name (resuming when `resume` is given). */
  subscribe(q: LiveQuery<Row>, resume: { stream: string; seq: number } | undefined): void;
  unsubscribe(q: LiveQuery<Row>): void;
}

export class LiveQuery<R extends Row = Row> {
  readonly view: string;
  readonly query: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly #result = new ResultSet<R>();
  readonly #host: LiveQueryHost;
  readonly #onChange: ((rows: readonly R[], event: LiveEvent<R>) => void) | undefined;
  #stream: string | undefined;
  #seq = 0;
  #closed = false;
  #error: CalyxError | undefined;
  #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (e: CalyxError) => void;
  /** The name of the current server-side subscription (changes with each resubscribe). */
  sub = "";

  /** @internal Created by CalyxClient.subscribe. */
  constructor(host: LiveQueryHost, view: string, query: string, params: Readonly<Record<string, unknown>>, onChange: ((rows: readonly R[], event: LiveEvent<R>) => void) | undefined) {
    this.#host = host;
    this.view = view;
    this.query = query;
    this.params = params;
    this.#onChange = onChange;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => undefined);
  }

  /** The rows, in the query's order. */
  get rows(): R[] {
    return this.#result.rows;
  }

  /** Keys (entity ids) with their rows, in the query's order. */
  get entries(): readonly { readonly key: string; readonly row: R }[] {
    return this.#result.entries;
  }

  /** The last change's sequence number in the current stream. */
  get seq(): number {
    return this.#seq;
  }

  /** Set when the server ended the subscription. */
  get error(): CalyxError | undefined {
    return this.#error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the first snapshot arrived (rejects if the subscription failed). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Stops the subscription. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.unsubscribe(this as unknown as LiveQuery<Row>);
  }

  /** @internal Where to resume from after a reconnect (undefined: no snapshot yet). */
  resumePoint(): { stream: string; seq: number } | undefined {
    return this.#stream === undefined ? undefined : { stream: this.#stream, seq: this.#seq };
  }

  /** @internal A server message for this subscription. */
  receive(m: Extract<ServerMessage, { sub: string }>): void {
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
        // A snapshot follows under the same name.
        this.#stream = undefined;
        return;
      case "unsubscribed":
        return;
    }
  }

  /** @internal The server ended this subscription. */
  fail(error: CalyxError): void {
    this.#error = error;
    this.#closed = true;
    this.#rejectReady(error);
  }

  /** Starts over with a fresh snapshot (under a new name, so stray messages of the old one are ignored). */
  #resync(): void {
    this.#stream = undefined;
    this.#host.unsubscribe(this as unknown as LiveQuery<Row>);
    this.#host.subscribe(this as unknown as LiveQuery<Row>, undefined);
  }

  #emit(event: LiveEvent<R>): void {
    this.#onChange?.(event.rows, event);
  }
}
