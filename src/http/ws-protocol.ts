// Parses and checks client messages of the WebSocket protocol (the types are
// in src/client/protocol.ts; docs/protocol.md is the reference). A message
// that is not valid JSON, has an unknown type or a missing/mistyped field is
// answered with an ERR_BAD_MESSAGE error naming the problem; the socket stays open.
import type { ClientMessage } from "../client/protocol.js";

export class BadMessageError extends Error {
  readonly code = "ERR_BAD_MESSAGE";
  /** The message's correlation id or subscription, when they could be read. */
  readonly id: string | number | undefined;
  readonly sub: string | undefined;
  constructor(message: string, id?: string | number, sub?: string) {
    super(message);
    this.id = id;
    this.sub = sub;
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string | number => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/** Subscription names: short printable strings. */
export const SUB_NAME_CHARS_MAX = 128;

export function parseClientMessage(text: string): ClientMessage {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (error) {
    throw new BadMessageError(`the message is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObj(m)) throw new BadMessageError("a message is a JSON object with a \"type\"");
  const id = isId(m["id"]) ? m["id"] : undefined;
  const sub = typeof m["sub"] === "string" ? m["sub"] : undefined;
  const bad = (what: string): never => {
    throw new BadMessageError(`"${String(m["type"])}" message: ${what}`, id, sub);
  };
  const str = (k: string): string => {
    const v = m[k];
    return typeof v === "string" && v !== "" ? v : bad(`"${k}" must be a non-empty string`);
  };
  const params = (): Record<string, unknown> => {
    const v = m["params"];
    if (v === undefined) return {};
    return isObj(v) ? v : bad("\"params\" must be an object");
  };
  const needId = (): string | number => (id !== undefined ? id : bad("\"id\" (a string or number) is required"));
  const subName = (): string => {
    const s = str("sub");
    return s.length <= SUB_NAME_CHARS_MAX ? s : bad(`"sub" is longer than ${SUB_NAME_CHARS_MAX} characters`);
  };
  switch (m["type"]) {
    case "call":
      return { type: "call", id: needId(), component: str("component"), command: str("command"), key: str("key"), body: m["body"] };
    case "query":
      return { type: "query", id: needId(), view: str("view"), query: str("query"), params: params() };
    case "subscribe": {
      const out: Extract<ClientMessage, { type: "subscribe" }> = { type: "subscribe", sub: subName(), view: str("view"), query: str("query"), params: params() };
      const r = m["resume"];
      if (r !== undefined && r !== null) {
        if (!isObj(r) || typeof r["stream"] !== "string" || typeof r["seq"] !== "number" || !Number.isSafeInteger(r["seq"]) || r["seq"] < 0) {
          bad("\"resume\" must be {\"stream\": string, \"seq\": non-negative integer}");
        } else out.resume = { stream: r["stream"], seq: r["seq"] };
      }
      return out;
    }
    case "unsubscribe":
      return { type: "unsubscribe", sub: subName() };
    case "ping":
      return id === undefined ? { type: "ping" } : { type: "ping", id };
    default:
      return bad(`unknown type; expected one of call, query, subscribe, unsubscribe, ping`);
  }
}
