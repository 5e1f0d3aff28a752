// Runs endpoint handlers in a worker. They are async and stateless; their
// calls to entities and views go through the main thread (which routes each
// command to the entity's own worker) and come back as callResult messages.
import { randomUUID } from "node:crypto";
import { CallError, type EndpointContext, type EndpointHandler } from "../api/components.js";
import type { LoadedComponent } from "./discovery.js";
import type { EndpointRequestData, FromWorker, ReplyData, ToWorker, WireError } from "./messages.js";

type CallResult = Extract<ToWorker, { t: "callResult" }>;

export class EndpointRunner {
  readonly #endpoints: ReadonlyMap<string, LoadedComponent>;
  readonly #post: (m: FromWorker) => void;
  readonly #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextCallId = 1;

  constructor(endpoints: ReadonlyMap<string, LoadedComponent>, post: (m: FromWorker) => void) {
    this.#endpoints = endpoints;
    this.#post = post;
  }

  run(reqId: number, endpointName: string, route: string, request: EndpointRequestData): void {
    const handler = (this.#endpoints.get(endpointName)?.definition["routes"] as Record<string, EndpointHandler> | undefined)?.[route];
    if (!handler) {
      this.#post({ t: "result", reqId, write: undefined, reply: { ok: false, kind: "unknown", message: `no route '${route}' on endpoint '${endpointName}'` } });
      return;
    }
    const respond = (reply: ReplyData): void => this.#post({ t: "result", reqId, write: undefined, reply });
    let result: unknown;
    try {
      result = handler({ ...request }, this.#context());
    } catch (error) {
      respond(toReply(error));
      return;
    }
    Promise.resolve(result).then((value) => respond({ ok: true, value }), (error: unknown) => respond(toReply(error)));
  }

  onCallResult(message: CallResult): void {
    const call = this.#calls.get(message.callId);
    if (!call) return;
    this.#calls.delete(message.callId);
    if (message.ok) call.resolve(message.value);
    else call.reject(fromWire(message.error));
  }

  #context(): EndpointContext {
    const ask = (m: Omit<Extract<FromWorker, { t: "call" }>, "callId"> | Omit<Extract<FromWorker, { t: "query" }>, "callId">): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const callId = this.#nextCallId++;
        this.#calls.set(callId, { resolve, reject });
        this.#post({ ...m, callId } as FromWorker);
      });
    return {
      client: (entity, id) =>
        new Proxy({}, {
          get: (_target, command) =>
            typeof command === "string" ? (body?: unknown) => ask({ t: "call", component: entity.name, id, command, body }) : undefined,
        }) as never,
      query: (view, query, params = {}) => ask({ t: "query", view: view.name, query, params }) as Promise<Record<string, unknown>[]>,
      error: (status, message, code) => {
        if (!Number.isInteger(status) || status < 400 || status > 499) throw new RangeError(`ctx.error(status, message): status must be a 4xx code, got ${status}`);
        return new CallError(status, code ?? `HTTP_${status}`, message);
      },
    };
  }
}

function toReply(error: unknown): ReplyData {
  if (error instanceof CallError && error.status >= 400 && error.status <= 499) {
    return { ok: false, kind: "rejected", status: error.status, code: error.code, message: error.message };
  }
  const forwarded = (error as { forwarded?: WireError } | null)?.forwarded;
  if (forwarded) return { ok: false, kind: "forwarded", error: forwarded };
  const err = error instanceof Error ? error : new Error(String(error));
  return { ok: false, kind: "failed", errorId: randomUUID(), message: err.message, stack: err.stack };
}

/** A failed call as the endpoint sees it: a CallError for a 4xx, else an error that keeps its code if rethrown. */
function fromWire(error: WireError): Error {
  if (error.status !== undefined) return new CallError(error.status, error.code, error.message);
  return Object.assign(new Error(error.message), { code: error.code, forwarded: error });
}
