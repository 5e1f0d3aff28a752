// Component definitions: plain, frozen objects with handler functions. The
// runtime discovers them among a project's exports by their brand.
import {
  deleteBuilder, errorEffect, persistBuilder, replyEffect, updateBuilder,
  type Effect, type PersistBuilder, type UpdateBuilder,
} from "./effects.js";

/** Marks an exported value as a Calyx component. */
export const COMPONENT = Symbol.for("calyx.component");

/** What an HTTP call carried, when the command came from HTTP. */
export interface RequestInfo {
  /** Path parameters by name (`:id` → `params.id`). */
  readonly params: Readonly<Record<string, string>>;
  /** Query-string parameters (the last value wins for repeated names). */
  readonly query: Readonly<Record<string, string>>;
  /** Request headers, names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
}

interface BaseContext {
  /** The id of the entity the command is for. */
  readonly entityId: string;
  /** The command's name, as declared in `commands`. */
  readonly commandName: string;
  /** The HTTP request, when the command came over HTTP. */
  readonly request: RequestInfo | undefined;
  /** Reply without changing anything. */
  reply<R>(value: R): Effect<R>;
  /** Fail the command with a 4xx status the caller sees (404, 409, 422...). Nothing changes. */
  error(status: number, message: string, code?: string): Effect<never>;
}

/** The `ctx` of a key-value entity's command handler. */
export interface KeyValueContext<S> extends BaseContext {
  /** Replace the state; complete with `.reply(x)`. */
  update(state: S): UpdateBuilder;
  /** Delete the entity: later reads see it as absent, and its view rows go. */
  delete(): UpdateBuilder;
}

/** The `ctx` of an event-sourced entity's command handler. */
export interface EventSourcedContext<S, E> extends BaseContext {
  /** Persist events (applied in order with `applyEvent`); complete with `.reply(x)` or `.reply(state => x)`. */
  persist(...events: E[]): PersistBuilder<S>;
}

/** One command of a key-value entity. */
export interface KeyValueCommand<S> {
  /** Route, e.g. `"POST /customers/:id"`. The entity id is the `:id` segment (or the one named by `key`). */
  readonly http?: string;
  /** Path parameter holding the entity id, when the route has several. */
  readonly key?: string;
  /** Time the handler may take before its worker is replaced (default: the runtime's). */
  readonly timeoutMs?: number;
  /**
   * The reply depends only on the state, the command's body and the entity id
   * (not on headers, time or randomness), and the handler never writes: the
   * server may then answer a repeated call from memory until the entity is
   * written again (docs/host.md "Reply cache").
   */
  readonly pure?: boolean;
  // Method syntax on purpose: handlers may narrow `command` to their own type.
  handler(state: S, command: unknown, ctx: KeyValueContext<S>): Effect<unknown>;
}

export interface EventSourcedCommand<S, E> {
  readonly http?: string;
  readonly key?: string;
  readonly timeoutMs?: number;
  /** As for key-value entities: the reply depends only on state, body and id, and the handler persists nothing. */
  readonly pure?: boolean;
  handler(state: S, command: unknown, ctx: EventSourcedContext<S, E>): Effect<unknown>;
}

export interface KeyValueEntity<S, C extends Record<string, KeyValueCommand<S>>> {
  readonly [COMPONENT]: "keyValueEntity";
  readonly kind: "keyValueEntity";
  readonly name: string;
  readonly initialState: () => S;
  readonly commands: C;
}

export interface EventSourcedEntity<S, E extends { type: string }, C extends Record<string, EventSourcedCommand<S, E>>> {
  readonly [COMPONENT]: "eventSourcedEntity";
  readonly kind: "eventSourcedEntity";
  readonly name: string;
  readonly initialState: () => S;
  readonly commands: C;
  readonly applyEvent: (state: S, event: E) => S;
}

/**
 * A key-value entity: keyed state, replaced whole by commands. Commands for one
 * id run one at a time, in arrival order.
 *
 * @example
 * export const customer = keyValueEntity({
 *   name: "customer",
 *   initialState: (): Customer | null => null,
 *   commands: {
 *     create: { http: "POST /customers/:id",
 *       handler: (_s, c: CreateCustomer, ctx) => ctx.update({ name: c.name, email: c.email }).reply("done") },
 *   },
 * });
 */
export function keyValueEntity<S, C extends Record<string, KeyValueCommand<S>>>(definition: {
  name: string;
  initialState: () => S;
  commands: C;
}): KeyValueEntity<S, C> {
  return Object.freeze({
    [COMPONENT]: "keyValueEntity" as const,
    kind: "keyValueEntity" as const,
    name: definition.name,
    initialState: definition.initialState,
    commands: definition.commands,
  });
}

/**
 * An event-sourced entity: commands persist events; `applyEvent` folds them into state.
 *
 * @example
 * export const cart = eventSourcedEntity({
 *   name: "cart",
 *   initialState: (): Cart => ({ items: [], checkedOut: false }),
 *   applyEvent: (s, e: CartEvent) => e.type === "added" ? { ...s, items: [...s.items, e.item] } : s,
 *   commands: {
 *     add: { http: "POST /carts/:id/items",
 *       handler: (_s, c: { item: string }, ctx) => ctx.persist({ type: "added", item: c.item }).reply((s) => s) },
 *   },
 * });
 */
export function eventSourcedEntity<S, E extends { type: string }, C extends Record<string, EventSourcedCommand<S, E>>>(definition: {
  name: string;
  initialState: () => S;
  applyEvent: (state: S, event: E) => S;
  commands: C;
}): EventSourcedEntity<S, E, C> {
  return Object.freeze({
    [COMPONENT]: "eventSourcedEntity" as const,
    kind: "eventSourcedEntity" as const,
    name: definition.name,
    initialState: definition.initialState,
    applyEvent: definition.applyEvent,
    commands: definition.commands,
  });
}

/** Any entity, for `view({ from })` and typed clients. */
export type AnyEntity =
  | KeyValueEntity<never, Record<string, KeyValueCommand<never>>>
  | EventSourcedEntity<never, { type: string }, Record<string, EventSourcedCommand<never, never>>>;

/** One named query of a view. */
export interface ViewQuery {
  /** The SQL, over the view's table, with `:name` parameters. */
  readonly sql: string;
  /** Route, e.g. `"GET /customers/by-name/:name"`; path and query-string parameters bind to `:params`. */
  readonly http?: string;
  /** Rows one call may return before it must page (default 10,000). */
  readonly maxRows?: number;
  /**
   * "list" (default): a JSON array. "single": the one matching row, 404 when
   * there is none. Paged queries (`next_page_token()`...) answer one page object.
   */
  readonly result?: "list" | "single";
}

export type ViewRow = Record<string, unknown>;

export interface View<S> {
  readonly [COMPONENT]: "view";
  readonly kind: "view";
  readonly name: string;
  readonly table: string;
  readonly from: { readonly kind: string; readonly name: string };
  /**
   * Turns the entity's state into the view's row (default: the state itself;
   * null = no row), or — for an event-sourced entity — one function per event type.
   */
  readonly updater: ((state: S) => ViewRow | null) | Readonly<Record<string, EventUpdater<ViewRow, never>>> | undefined;
  readonly queries: Readonly<Record<string, ViewQuery>>;
}

/** Returned by `ctx.deleteRow()` in an event updater: the entity's row goes away. */
export const DELETE_ROW = Symbol.for("calyx.deleteRow");

/** The `ctx` of an event updater. */
export interface EventUpdaterContext {
  /** The entity whose event this is (the row's primary key). */
  readonly entityId: string;
  /** Delete the row: `return ctx.deleteRow()`. */
  deleteRow(): typeof DELETE_ROW;
}

/**
 * Updates a view row for one event: receives the previous row (null when there
 * is none) and returns the new row, `ctx.deleteRow()`, or undefined for no change.
 */
export type EventUpdater<R, E> = (row: R | null, event: E, ctx: EventUpdaterContext) => R | typeof DELETE_ROW | undefined;

type StateOf<T> = T extends { initialState: () => infer S } ? S : never;
type EventOf<T> = T extends { applyEvent: (state: never, event: infer E) => unknown } ? E : never;
/** One optional updater per event type of an event-sourced entity. */
type EventUpdaters<E> = [E] extends [never] ? never : { [K in E extends { type: infer T extends string } ? T : never]?: EventUpdater<ViewRow, Extract<E, { type: K }>> };

/**
 * A view: a table fed by an entity's state, queried with SQL. It is updated in
 * the same transaction as the write that changed it, so a reply means the view
 * already shows the change.
 *
 * @example
 * export const customersByName = view({
 *   name: "customers", from: customer,
 *   queries: { byName: { http: "GET /customers/by-name/:name",
 *                        sql: "SELECT * FROM customers WHERE name = :name" } },
 * });
 */
export function view<F extends { kind: string; name: string; initialState: () => unknown }>(definition: {
  name: string;
  /** Table name used in the SQL (default: `name`). */
  table?: string;
  from: F;
  /** `(state) => row`, or for an event-sourced entity `{ EventType: (row, event, ctx) => row | ctx.deleteRow() | undefined }`. */
  updater?: ((state: NonNullable<StateOf<F>>) => ViewRow | null) | EventUpdaters<EventOf<F>>;
  queries: Record<string, ViewQuery>;
}): View<NonNullable<StateOf<F>>> {
  return Object.freeze({
    [COMPONENT]: "view" as const,
    kind: "view" as const,
    name: definition.name,
    table: definition.table ?? definition.name,
    from: definition.from,
    updater: definition.updater as View<NonNullable<StateOf<F>>>["updater"],
    queries: definition.queries,
  });
}

/** @internal Builds the context a handler receives. */
export function makeContext(entityId: string, commandName: string, request: RequestInfo | undefined) {
  return {
    entityId,
    commandName,
    request,
    reply: replyEffect,
    error: errorEffect,
    update: updateBuilder,
    delete: deleteBuilder,
    persist: (...events: unknown[]) => persistBuilder(events),
  };
}

/** What an endpoint handler receives. */
export interface EndpointRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body (undefined when there is none). */
  readonly body: unknown;
}

type HandlerReply<H> = H extends { handler(...args: never[]): infer Eff } ? (Eff extends { readonly data: unknown } ? EffectReply<Eff> : unknown) : unknown;
type EffectReply<Eff> = Eff extends Effect<infer R> ? R : unknown;
type HandlerCommand<H> = H extends { handler(state: never, command: infer C, ctx: never): unknown } ? C : unknown;

/** A typed client for one entity instance: one async method per command. */
export type EntityClient<E> = E extends { commands: infer C }
  ? { readonly [K in keyof C]: unknown extends HandlerCommand<C[K]> ? (command?: unknown) => Promise<HandlerReply<C[K]>> : (command: HandlerCommand<C[K]>) => Promise<HandlerReply<C[K]>> }
  : never;

/** Thrown by `ctx.error` in an endpoint, and by clients when a command fails: carries the HTTP status. */
export class CallError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "CallError";
    this.status = status;
    this.code = code;
  }
}

export interface EndpointContext {
  /** A typed client for one entity: `await ctx.client(customer, id).get()`. Rejects with CallError. */
  client<E extends { kind: string; name: string; commands: object }>(entity: E, id: string): EntityClient<E>;
  /** Runs a view query; parameters as in the query's SQL. */
  query(view: { readonly name: string }, query: string, params?: Record<string, string>): Promise<Record<string, unknown>[]>;
  /** Fails the request with a 4xx status: `throw ctx.error(404, "no such cart")`. */
  error(status: number, message: string, code?: string): CallError;
}

export type EndpointHandler = (request: EndpointRequest, ctx: EndpointContext) => unknown;

export interface Endpoint {
  readonly [COMPONENT]: "endpoint";
  readonly kind: "endpoint";
  readonly name: string;
  readonly routes: Readonly<Record<string, EndpointHandler>>;
  readonly timeoutMs: number | undefined;
}

/**
 * Stateless HTTP routes that call entities and views. A handler's return value
 * is the JSON response (200); `throw ctx.error(status, message)` for a 4xx.
 *
 * @example
 * export const api = endpoint({
 *   name: "cart-api",
 *   routes: {
 *     "GET /carts/:id/summary": async (req, ctx) => {
 *       const cart = await ctx.client(cart, req.params.id).get();
 *       return { items: cart.items.length };
 *     },
 *   },
 * });
 */
export function endpoint(definition: { name: string; routes: Record<string, EndpointHandler>; timeoutMs?: number }): Endpoint {
  return Object.freeze({
    [COMPONENT]: "endpoint" as const,
    kind: "endpoint" as const,
    name: definition.name,
    routes: definition.routes,
    timeoutMs: definition.timeoutMs,
  });
}
