// Order-preserving, injective encoding of compound keys. OWNED BY THE STORAGE WORK
// (issue 3): this stub fixes the signatures so other layers can code against them.
import type { Key, KeyPart } from "./store.js";

/** Encodes a tuple so that byte order (memcmp) equals value order. `descending[i]` flips component i. */
export function encodeKey(parts: Key, descending?: readonly boolean[]): Buffer {
  void parts; void descending;
  throw new Error("key-codec: not implemented yet");
}

/** Inverse of encodeKey (given the same `descending` flags). */
export function decodeKey(key: Buffer, descending?: readonly boolean[]): KeyPart[] {
  void key; void descending;
  throw new Error("key-codec: not implemented yet");
}

/** The value order the encoding preserves: null < false < true < numbers < strings (UTF-8 byte order). */
export function compareKeyParts(a: KeyPart, b: KeyPart): number {
  void a; void b;
  throw new Error("key-codec: not implemented yet");
}

/** The smallest key greater than every key that starts with `prefix` (exclusive end of a prefix scan). */
export function prefixEnd(prefix: Buffer): Buffer {
  void prefix;
  throw new Error("key-codec: not implemented yet");
}
