// What a command does, computed from an entity definition alone: the one
// implementation of effect semantics, shared by the runtime's workers and the
// unit testkit, so both run user handlers exactly the same way.
import { makeContext, type RequestInfo } from "./components.js";
import { isEffect } from "./effects.js";

export type Execution =
  | {
      readonly kind: "reply";
      readonly value: unknown;
      /** The state after the command (unchanged when `change` is "none"). */
      readonly state: unknown;
      readonly change: "none" | "update" | "delete";
      /** Journal entries: the events persisted, or the KV entity's change. */
      readonly events: readonly { readonly type: string; readonly payload: unknown }[];
    }
  | { readonly kind: "rejected"; readonly status: number; readonly code: string; readonly message: string };

interface EntityShape {
  readonly kind: string;
  readonly name: string;
  readonly initialState: () => unknown;
  readonly commands: Readonly<Record<string, { handler?: unknown }>>;
  readonly applyEvent?: (state: unknown, event: unknown) => unknown;
}

/** Thrown for a command the entity does not declare. */
export class UnknownCommandError extends Error {
  readonly code = "ERR_UNKNOWN_COMMAND";
}

/**
 * Runs one command on `state`. Throws whatever the handler throws (the caller
 * turns it into a 500); returns the effect's meaning otherwise.
 */
export function executeCommand(entity: EntityShape, state: unknown, id: string, commandName: string, command: unknown,
  request: RequestInfo | undefined): Execution {
  const def = entity.commands[commandName];
  if (!def || typeof def.handler !== "function") throw new UnknownCommandError(`no command '${commandName}' on component '${entity.name}'`);
  const result: unknown = (def.handler as (s: unknown, c: unknown, x: unknown) => unknown)(state, command, makeContext(id, commandName, request));
  if (!isEffect(result)) {
    throw new TypeError(`${entity.name}.${commandName} returned ${describe(result)}; a handler must return an effect such as ctx.reply(x) or ctx.update(s).reply(x)`);
  }
  const data = result.data;
  if (data.type === "error") return { kind: "rejected", status: data.status, code: data.code, message: data.message };
  let next = state;
  let change: "none" | "update" | "delete" = "none";
  let events: { type: string; payload: unknown }[] = [];
  if (entity.kind === "eventSourcedEntity" && data.events && data.events.length > 0) {
    const applyEvent = entity.applyEvent;
    if (!applyEvent) throw new TypeError(`${entity.name} has no applyEvent`);
    events = data.events.map((e) => {
      const type = (e as { type?: unknown } | null)?.type;
      if (typeof type !== "string") throw new TypeError(`${entity.name}.${commandName}: persisted event ${describe(e)} has no string 'type'`);
      next = applyEvent(next, e);
      return { type, payload: e };
    });
    change = "update";
  } else if (data.update && "state" in data.update) {
    next = data.update.state;
    change = "update";
    events = [{ type: "state", payload: next }];
  } else if (data.update && "deleted" in data.update) {
    next = entity.initialState();
    change = "delete";
    events = [{ type: "delete", payload: null }];
  }
  const value = data.replyIsFunction ? (data.reply as (s: unknown) => unknown)(next) : data.reply;
  return { kind: "reply", value, state: next, change, events };
}

export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object that is not an effect";
  return `a ${typeof value}`;
}
