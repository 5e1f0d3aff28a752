// Order-preserving, injective encoding of compound keys: memcmp order of the
// encodings equals compareKeys order of the tuples. Our own format, not lmdb's
// ordered-binary (which mishandles NUL bytes, orders strings by UTF-16 and has
// no per-component DESC). The format is part of the on-disk layout
// (README.md, FORMAT_VERSION in lmdb-store.ts): changing it needs a new version.
//
// One component, ascending:
//   null   0x01
//   false  0x02
//   true   0x03
//   number 0x04 + 8 bytes: IEEE-754 big-endian; positive -> sign bit set,
//          negative -> all bits inverted (so byte order = numeric order).
//          -0 is encoded as +0 (they are equal values); NaN is rejected.
//   string 0x05 + UTF-8 bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x00.
//          UTF-8 byte order is code point order (SQLite BINARY collation).
//          The terminator sorts below every continuation, so "a" < "a\0" < "ab".
// A descending component is the ascending encoding with every byte inverted.
// This reverses the order because component encodings are prefix-free (each
// is self-delimiting): two distinct components differ at a byte both have.
// A tuple is its components concatenated, so a tuple that is a prefix of
// another sorts first, whatever the flags, and encodeKey(p) is a byte prefix
// of encodeKey(p ++ rest): prefix scans are [encodeKey(p), prefixEnd(...)).
//
// Tags 0x01..0x05 (0xFE..0xFA descending) mean no key starts with 0x00 or 0xFF.
import { StorageError } from "./errors.js";
import type { Key, KeyPart } from "./store.js";

/** lmdb-js default maxKeySize. Longer keys are refused with ERR_KEY_TOO_LARGE. */
export const MAX_KEY_BYTES = 1978;

const TAG_NULL = 0x01;
const TAG_FALSE = 0x02;
const TAG_TRUE = 0x03;
const TAG_NUMBER = 0x04;
const TAG_STRING = 0x05;

// One scratch buffer for every encode: the key is built here, then copied into
// an exact-size Buffer (allocUnsafe uses Node's pool for small sizes). Room for
// MAX_KEY_BYTES plus the largest single component we write before checking.
const SCRATCH_BYTES = 16 * 1024;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
const numScratch = Buffer.allocUnsafe(8);

interface StringWellFormed {
  isWellFormed(): boolean;
}

function checkString(s: string, index: number): void {
  // Buffer.from would silently turn a lone surrogate into U+FFFD, making two
  // distinct strings share an encoding. Reject instead of corrupting order.
  if (!(s as unknown as StringWellFormed).isWellFormed()) {
    throw new StorageError(
      "ERR_KEY_INVALID_STRING",
      `key part ${index} is a string with a lone UTF-16 surrogate, which has no UTF-8 encoding; ` +
        `key strings must be well-formed Unicode (use String.prototype.toWellFormed() before using it as a key)`,
    );
  }
}

function tooLarge(bytes: number): StorageError {
  return new StorageError(
    "ERR_KEY_TOO_LARGE",
    `encoded key is at least ${bytes} bytes, over the ${MAX_KEY_BYTES}-byte LMDB key limit; ` +
      `shorten the entity id / key strings (indexes should truncate long values with truncateUtf8 and re-check rows)`,
  );
}

/** Writes one component at `pos` of scratch; returns the new position. */
function writePart(part: KeyPart, index: number, pos: number, desc: boolean, partialString: boolean): number {
  const start = pos;
  if (part === null) {
    scratch[pos++] = TAG_NULL;
  } else if (part === false) {
    scratch[pos++] = TAG_FALSE;
  } else if (part === true) {
    scratch[pos++] = TAG_TRUE;
  } else if (typeof part === "number") {
    if (Number.isNaN(part)) {
      throw new StorageError(
        "ERR_KEY_NAN",
        `key part ${index} is NaN, which has no place in key order; use null for a missing number`,
      );
    }
    scratch[pos++] = TAG_NUMBER;
    scratch.writeDoubleBE(part === 0 ? 0 : part, pos); // -0 === 0: store +0
    if ((scratch[pos] as number) & 0x80) {
      for (let i = pos; i < pos + 8; i++) scratch[i] = ~(scratch[i] as number) & 0xff;
    } else {
      scratch[pos] = (scratch[pos] as number) | 0x80;
    }
    pos += 8;
  } else if (typeof part === "string") {
    checkString(part, index);
    // Worst case 3 bytes per UTF-16 unit, doubled by escaping is impossible
    // (only 0x00 is escaped, 1 -> 2 bytes), so 3 * length + 3 bounds it.
    if (pos + 3 * part.length + 3 > SCRATCH_BYTES) {
      const exact = pos + Buffer.byteLength(part, "utf8") + 3;
      if (exact > SCRATCH_BYTES || exact > MAX_KEY_BYTES) throw tooLarge(exact);
    }
    scratch[pos++] = TAG_STRING;
    if (part.indexOf("\0") === -1) {
      pos += scratch.write(part, pos, "utf8");
    } else {
      const bytes = Buffer.from(part, "utf8");
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] as number;
        scratch[pos++] = b;
        if (b === 0) scratch[pos++] = 0xff;
      }
    }
    if (!partialString) {
      scratch[pos++] = 0;
      scratch[pos++] = 0;
    }
  } else {
    throw new StorageError(
      "ERR_KEY_TYPE",
      `key part ${index} is of type ${part === undefined ? "undefined" : typeof part}; ` +
        `key parts must be null, boolean, number or string`,
    );
  }
  if (desc) for (let i = start; i < pos; i++) scratch[i] = ~(scratch[i] as number) & 0xff;
  if (pos > MAX_KEY_BYTES) throw tooLarge(pos);
  return pos;
}

function finish(len: number): Buffer {
  const out = Buffer.allocUnsafe(len);
  scratch.copy(out, 0, 0, len);
  return out;
}

/**
 * Encodes a tuple so that byte order (memcmp) equals value order (compareKeys).
 * `descending[i]` flips component i. Throws StorageError ERR_KEY_NAN,
 * ERR_KEY_TYPE, ERR_KEY_INVALID_STRING or ERR_KEY_TOO_LARGE (> MAX_KEY_BYTES).
 */
export function encodeKey(parts: Key, descending?: readonly boolean[]): Buffer {
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    pos = writePart(parts[i] as KeyPart, i, pos, descending?.[i] === true, false);
  }
  return finish(pos);
}

/**
 * Like encodeKey, but returns a view of an internal scratch buffer, valid only
 * until the next call of any encode function. For keys handed straight to a
 * lookup (lmdb-js copies them), to spare an allocation on hot read paths.
 */
export function encodeKeyTransient(parts: Key, descending?: readonly boolean[]): Buffer {
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    pos = writePart(parts[i] as KeyPart, i, pos, descending?.[i] === true, false);
  }
  return scratch.subarray(0, pos);
}

/**
 * Encoding of a tuple prefix: every tuple that extends `parts` (including
 * `parts` itself) encodes into [encodeKeyPrefix(parts), prefixEnd(encodeKeyPrefix(parts))).
 * Identical to encodeKey (components are self-delimiting); named for intent.
 */
export function encodeKeyPrefix(parts: Key, descending?: readonly boolean[]): Buffer {
  return encodeKey(parts, descending);
}

/**
 * Prefix for `LIKE 'abc%'`-style scans: every tuple `[...parts, s, ...rest]`
 * where s starts with `stringPrefix` encodes into
 * [encodeStringPrefix(...), prefixEnd(encodeStringPrefix(...))). The string
 * component's direction is `descending[parts.length]`.
 */
export function encodeStringPrefix(parts: Key, stringPrefix: string, descending?: readonly boolean[]): Buffer {
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    pos = writePart(parts[i] as KeyPart, i, pos, descending?.[i] === true, false);
  }
  pos = writePart(stringPrefix, parts.length, pos, descending?.[parts.length] === true, true);
  return finish(pos);
}

/** Inverse of encodeKey (given the same `descending` flags). Throws on malformed input. */
export function decodeKey(key: Buffer, descending?: readonly boolean[]): KeyPart[] {
  const out: KeyPart[] = [];
  let pos = 0;
  while (pos < key.length) {
    const desc = descending?.[out.length] === true;
    const flip = desc ? 0xff : 0;
    const tag = (key[pos++] as number) ^ flip;
    switch (tag) {
      case TAG_NULL:
        out.push(null);
        break;
      case TAG_FALSE:
        out.push(false);
        break;
      case TAG_TRUE:
        out.push(true);
        break;
      case TAG_NUMBER: {
        if (pos + 8 > key.length) throw malformed(key, pos);
        const b = numScratch;
        for (let i = 0; i < 8; i++) b[i] = (key[pos + i] as number) ^ flip;
        if ((b[0] as number) & 0x80) b[0] = (b[0] as number) & 0x7f;
        else for (let i = 0; i < 8; i++) b[i] = ~(b[i] as number) & 0xff;
        out.push(b.readDoubleBE(0));
        pos += 8;
        break;
      }
      case TAG_STRING: {
        if (!desc) {
          // Fast path: no escaped NUL, so the first 0x00 starts the terminator.
          const z = key.indexOf(0, pos);
          if (z < 0 || z + 1 >= key.length) throw malformed(key, pos);
          if (key[z + 1] === 0) {
            out.push(key.toString("utf8", pos, z));
            pos = z + 2;
            break;
          }
        }
        const bytes: number[] = [];
        for (;;) {
          if (pos >= key.length) throw malformed(key, pos);
          const c = (key[pos++] as number) ^ flip;
          if (c !== 0) {
            bytes.push(c);
            continue;
          }
          if (pos >= key.length) throw malformed(key, pos);
          const n = (key[pos++] as number) ^ flip;
          if (n === 0) break;
          if (n !== 0xff) throw malformed(key, pos - 1);
          bytes.push(0);
        }
        out.push(Buffer.from(bytes).toString("utf8"));
        break;
      }
      default:
        throw malformed(key, pos - 1);
    }
  }
  return out;
}

function malformed(key: Buffer, pos: number): Error {
  return new Error(`key-codec: malformed key at byte ${pos}: ${key.toString("hex")}`);
}

const TYPE_RANK_NUMBER = 3;
const TYPE_RANK_STRING = 4;

function typeRank(p: KeyPart): number {
  if (p === null) return 0;
  if (p === false) return 1;
  if (p === true) return 2;
  return typeof p === "number" ? TYPE_RANK_NUMBER : TYPE_RANK_STRING;
}

// Maps a UTF-16 code unit so that comparing mapped units gives code point
// (= UTF-8 byte) order: surrogates (D800-DFFF, i.e. code points >= 0x10000)
// move above E000-FFFF.
function fixUnit(c: number): number {
  if (c < 0xd800) return c;
  return c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

/** Strings in UTF-8 byte order (code point order), unlike JS's UTF-16 `<`. */
export function compareStringsUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixUnit(x) - fixUnit(y);
  }
  return a.length - b.length;
}

/** The value order the encoding preserves: null < false < true < numbers < strings (UTF-8 byte order). -0 equals 0. */
export function compareKeyParts(a: KeyPart, b: KeyPart): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === TYPE_RANK_NUMBER) {
    const x = a as number;
    const y = b as number;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra === TYPE_RANK_STRING) return compareStringsUtf8(a as string, b as string);
  return 0;
}

/** Tuple order: component-wise (flipped where `descending[i]`), then a proper prefix first. */
export function compareKeys(a: Key, b: Key, descending?: readonly boolean[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareKeyParts(a[i] as KeyPart, b[i] as KeyPart);
    if (c !== 0) return descending?.[i] === true ? -c : c;
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key that starts with `prefix` (exclusive
 * end of a prefix scan): drop trailing 0xFF bytes and increment the last byte.
 * Codec keys never start with 0xFF, so the empty prefix maps to [0xFF].
 */
export function prefixEnd(prefix: Buffer): Buffer {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) {
    if (prefix.length === 0) return Buffer.from([0xff]);
    throw new Error("key-codec: prefixEnd of an all-0xFF prefix has no finite end");
  }
  const out = Buffer.allocUnsafe(n);
  prefix.copy(out, 0, 0, n);
  out[n - 1] = (out[n - 1] as number) + 1;
  return out;
}

/**
 * Cuts `s` to at most `maxBytes` of UTF-8 without splitting a code point. For
 * index keys over MAX_KEY_BYTES: the query layer stores the truncated value
 * (entries stay unique because the pk follows) and, when an index entry's value
 * was truncated, re-checks the row itself (residual filter), since a truncated
 * value only tells that the real value starts with it.
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes || Buffer.byteLength(s, "utf8") <= maxBytes) return s;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i) as number;
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + len > maxBytes) break;
    bytes += len;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return s.slice(0, i);
}
