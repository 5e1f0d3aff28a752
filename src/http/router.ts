// Matches "METHOD /path" to a route: static segments before parameters, and a
// path that exists under other methods is a 405, not a 404.

export interface Match<T> {
  readonly value: T;
  readonly params: Record<string, string>;
}

interface Node<T> {
  readonly statics: Map<string, Node<T>>;
  param: { readonly name: string; readonly node: Node<T> } | undefined;
  readonly handlers: Map<string, T>;
  /** Parameter names of each method's pattern, in order. */
  readonly names: Map<string, readonly string[]>;
}

function node<T>(): Node<T> {
  return { statics: new Map(), param: undefined, handlers: new Map(), names: new Map() };
}

export type RouteLookup<T> =
  | { readonly kind: "found"; readonly match: Match<T> }
  | { readonly kind: "method-not-allowed"; readonly allow: readonly string[] }
  | { readonly kind: "not-found" };

export class Router<T> {
  readonly #root: Node<T> = node();

  /** Adds a route; throws if the same method and shape is taken (a programmer error: discovery checks first). */
  add(method: string, pattern: string, value: T): void {
    let at = this.#root;
    const names: string[] = [];
    for (const segment of split(pattern)) {
      if (segment.startsWith(":")) {
        const name = segment.slice(1);
        names.push(name);
        at.param ??= { name, node: node() };
        at = at.param.node;
      } else {
        let next = at.statics.get(segment);
        if (!next) at.statics.set(segment, (next = node()));
        at = next;
      }
    }
    if (at.handlers.has(method)) throw new Error(`route ${method} ${pattern} is registered twice`);
    at.handlers.set(method, value);
    at.names.set(method, names);
  }

  lookup(method: string, path: string): RouteLookup<T> {
    const values: string[] = [];
    const found = find(this.#root, split(path), 0, values);
    if (!found) return { kind: "not-found" };
    const value = found.handlers.get(method) ?? (method === "HEAD" ? found.handlers.get("GET") : undefined);
    if (value === undefined) return { kind: "method-not-allowed", allow: [...found.handlers.keys()] };
    const names = found.names.get(method) ?? found.names.get("GET") ?? [];
    const params: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) params[names[i] ?? ""] = values[i] ?? "";
    return { kind: "found", match: { value, params } };
  }
}

function find<T>(at: Node<T>, segments: readonly string[], i: number, values: string[]): Node<T> | undefined {
  if (i === segments.length) return at.handlers.size > 0 ? at : undefined;
  const segment = segments[i] ?? "";
  const s = at.statics.get(segment);
  if (s) {
    const hit = find(s, segments, i + 1, values);
    if (hit) return hit;
  }
  if (at.param && segment !== "") {
    values.push(decodeSegment(segment));
    const hit = find(at.param.node, segments, i + 1, values);
    if (hit) return hit;
    values.pop();
  }
  return undefined;
}

/**
 * The segments after the first "/", less one trailing "/": what
 * `path.split("/").slice(1)` gives (after trimming), without the two arrays —
 * it runs on every request (test/http/router.test.ts compares them).
 */
export function split(path: string): string[] {
  const end = path.length > 1 && path.charCodeAt(path.length - 1) === SLASH ? path.length - 1 : path.length;
  const out: string[] = [];
  const first = path.indexOf("/");
  if (first < 0 || first >= end) return out;
  let start = first + 1;
  for (;;) {
    const slash = path.indexOf("/", start);
    if (slash < 0 || slash >= end) {
      out.push(path.slice(start, end));
      return out;
    }
    out.push(path.slice(start, slash));
    start = slash + 1;
  }
}

const SLASH = 47;

function decodeSegment(segment: string): string {
  // Nothing to decode (the usual case) needs no decodeURIComponent and no try.
  if (segment.indexOf("%") < 0) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
