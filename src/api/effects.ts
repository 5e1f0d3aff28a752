// Effects are the plain-data answer of a command handler: what to store, what
// to reply. They cross from user code to the runtime as data, never as calls.

declare const replyBrand: unique symbol;

/** What a command handler returns. `R` is the reply type the caller receives. */
export interface Effect<R> {
  readonly [replyBrand]?: R;
  readonly kind: "effect";
  /** @internal */ readonly data: EffectData;
}

/** @internal The runtime's view of an effect. */
export type EffectData =
  | {
      readonly type: "reply";
      readonly update?: { readonly state: unknown } | { readonly deleted: true };
      readonly events?: readonly unknown[];
      /** A value, or a function of the new state (event-sourced `persist(...).reply(fn)`). */
      readonly reply: unknown;
      readonly replyIsFunction: boolean;
    }
  | { readonly type: "error"; readonly status: number; readonly message: string; readonly code: string };

function effect<R>(data: EffectData): Effect<R> {
  return Object.freeze({ kind: "effect", data }) as Effect<R>;
}

/** The state-changing half of an effect, completed with `.reply(...)`. */
export interface UpdateBuilder {
  /** Reply with `value` once the change is durable. */
  reply<R>(value: R): Effect<R>;
}

export interface PersistBuilder<S> {
  /** Reply with a value, or with a function of the state after the events are applied. */
  reply<R>(value: R | ((state: S) => R)): Effect<R>;
}

/** Errors a handler may choose: a 4xx status and a message for the caller. */
export function errorEffect(status: number, message: string, code?: string): Effect<never> {
  if (!Number.isInteger(status) || status < 400 || status > 499) {
    throw new RangeError(`ctx.error(status, message): status must be a 4xx code, got ${status}; throw an Error for a 500`);
  }
  return effect({ type: "error", status, message, code: code ?? defaultCode(status) });
}

function defaultCode(status: number): string {
  switch (status) {
    case 400: return "BAD_REQUEST";
    case 401: return "UNAUTHORIZED";
    case 403: return "FORBIDDEN";
    case 404: return "NOT_FOUND";
    case 409: return "CONFLICT";
    case 422: return "UNPROCESSABLE";
    default: return `HTTP_${status}`;
  }
}

export function replyEffect<R>(value: R): Effect<R> {
  return effect({ type: "reply", reply: value, replyIsFunction: false });
}

export function updateBuilder(state: unknown): UpdateBuilder {
  return { reply: (value) => effect({ type: "reply", update: { state }, reply: value, replyIsFunction: false }) };
}

export function deleteBuilder(): UpdateBuilder {
  return { reply: (value) => effect({ type: "reply", update: { deleted: true }, reply: value, replyIsFunction: false }) };
}

export function persistBuilder<S>(events: readonly unknown[]): PersistBuilder<S> {
  return {
    reply: (value) =>
      effect({ type: "reply", events, reply: value, replyIsFunction: typeof value === "function" }),
  };
}

export function isEffect(value: unknown): value is Effect<unknown> {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "effect" && "data" in value;
}
