import t from "tap";
import type { Test } from "tap";
import fc from "fast-check";
import {
  MAX_KEY_BYTES,
  compareKeyParts,
  compareKeys,
  compareStringsUtf8,
  decodeKey,
  encodeKey,
  encodeKeyPrefix,
  encodeKeyTransient,
  encodeStringPrefix,
  prefixEnd,
  truncateUtf8,
} from "../../src/storage/key-codec.js";
import { StorageError } from "../../src/storage/errors.js";
import type { KeyPart } from "../../src/storage/store.js";

/** fast-check run reported as one tap assertion (a counterexample fails the test). */
function check<Ts extends unknown[]>(t: Test, property: fc.IProperty<Ts>, params: fc.Parameters<Ts> = {}): void {
  fc.assert(property, params);
  t.pass(`property held for ${params.numRuns ?? 100} runs`);
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

// Strings biased towards the interesting bytes: NUL, the surrogate/BMP boundary
// where UTF-16 and UTF-8 order disagree, and shared prefixes.
const interestingChar = fc.constantFrom("\0", "\x01", "a", "b", "\x7f", "\u0080", "\uffff", "\ue000", "😀", "\u{10ffff}", "\u{10000}");
const str = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.array(interestingChar, { maxLength: 5 }).map((a) => a.join("")),
  fc.string({ unit: "binary", maxLength: 4 }),
);
const num = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.constantFrom(0, -0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1),
);
const part: fc.Arbitrary<KeyPart> = fc.oneof(fc.constant(null), fc.boolean(), num, str);
const tuple = fc.array(part, { maxLength: 4 });
const flags = fc.array(fc.boolean(), { minLength: 4, maxLength: 4 });

// Regression seeds, kept as plain cases.
const seeds: [KeyPart[], KeyPart[]][] = [
  [["a"], ["a\0"]],
  [["a\0"], ["a\x01"]],
  [["a"], ["a", null]],
  [["\uffff"], ["😀"]], // UTF-16 says 😀 < \uffff; UTF-8 says the opposite
  [[-0], [0]],
  [[-Infinity], [-Number.MAX_VALUE]],
  [[Infinity], [""]],
  [[true], [-Infinity]],
  [[null], [false]],
  [["ab", 1], ["a", "b"]],
];

void t.test("byte order equals tuple order (ascending)", async (t) => {
  for (const [a, b] of seeds) {
    t.equal(sign(Buffer.compare(encodeKey(a), encodeKey(b))), sign(compareKeys(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  check(t, 
    fc.property(tuple, tuple, (a, b) => sign(Buffer.compare(encodeKey(a), encodeKey(b))) === sign(compareKeys(a, b))),
    { numRuns: 5000 },
  );
});

void t.test("byte order equals tuple order with per-component descending flags", async (t) => {
  for (const [a, b] of seeds) {
    for (const d of [[true], [false, true], [true, true]]) {
      t.equal(sign(Buffer.compare(encodeKey(a, d), encodeKey(b, d))), sign(compareKeys(a, b, d)));
    }
  }
  check(t, 
    fc.property(tuple, tuple, flags, (a, b, d) => sign(Buffer.compare(encodeKey(a, d), encodeKey(b, d))) === sign(compareKeys(a, b, d))),
    { numRuns: 5000 },
  );
});

void t.test("same-shape tuples with shared prefixes (denser collisions)", async (t) => {
  const small = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -2, max: 2 }), fc.constantFrom("", "a", "a\0", "ab", "\0", "😀", "\uffff"));
  check(t, 
    fc.property(fc.array(small, { minLength: 1, maxLength: 3 }), fc.array(small, { minLength: 1, maxLength: 3 }), flags, (a, b, d) => {
      return sign(Buffer.compare(encodeKey(a, d), encodeKey(b, d))) === sign(compareKeys(a, b, d));
    }),
    { numRuns: 5000 },
  );
});

void t.test("round trip", async (t) => {
  check(t, 
    fc.property(tuple, flags, (a, d) => {
      const back = decodeKey(encodeKey(a, d), d);
      // -0 decodes as 0 (equal values, one encoding).
      return back.length === a.length && back.every((x, i) => Object.is(x, a[i] === 0 ? 0 : a[i]));
    }),
    { numRuns: 5000 },
  );
  t.same(decodeKey(encodeKey([-0])), [0]);
  t.ok(Object.is(decodeKey(encodeKey([-0]))[0], 0));
});

void t.test("injective: distinct tuples never share an encoding", async (t) => {
  check(t, 
    fc.property(tuple, tuple, flags, (a, b, d) => {
      const same = Buffer.compare(encodeKey(a, d), encodeKey(b, d)) === 0;
      return same === (compareKeys(a, b) === 0);
    }),
    { numRuns: 5000 },
  );
});

void t.test("prefix scan: every extension lies in [prefix, prefixEnd(prefix)), nothing else does", async (t) => {
  check(t, 
    fc.property(tuple, tuple, tuple, flags, (p, rest, other, d) => {
      const lo = encodeKeyPrefix(p, d);
      const hi = prefixEnd(lo);
      const inside = encodeKey([...p, ...rest], d);
      if (!(Buffer.compare(lo, inside) <= 0 && Buffer.compare(inside, hi) < 0)) return false;
      const o = encodeKey(other, d);
      const extends_ = other.length >= p.length && compareKeys(other.slice(0, p.length), p) === 0;
      const inRange = Buffer.compare(lo, o) <= 0 && Buffer.compare(o, hi) < 0;
      return inRange === extends_;
    }),
    { numRuns: 3000 },
  );
});

void t.test("string prefix scan (LIKE 'x%'): exactly the strings starting with x", async (t) => {
  check(t, 
    fc.property(tuple, str, str, fc.boolean(), (p, prefix, s, desc) => {
      const d = p.map(() => false).concat([desc]);
      const lo = encodeStringPrefix(p, prefix, d);
      const hi = prefixEnd(lo);
      const k = encodeKey([...p, s, 1], d);
      const inRange = Buffer.compare(lo, k) <= 0 && Buffer.compare(k, hi) < 0;
      const k2 = encodeKey([...p, prefix + s], d);
      return inRange === s.startsWith(prefix) && Buffer.compare(lo, k2) <= 0 && Buffer.compare(k2, hi) < 0;
    }),
    { numRuns: 3000 },
  );
});

void t.test("strings compare by UTF-8 bytes, like SQLite BINARY", async (t) => {
  check(t, 
    fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
      return sign(compareStringsUtf8(a, b)) === sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
    }),
  );
  t.ok(compareKeyParts("\uffff", "😀") < 0);
  t.ok(compareKeyParts(1, "") < 0);
});

void t.test("rejections are StorageErrors with stable codes", async (t) => {
  t.throws(() => encodeKey([NaN]), { code: "ERR_KEY_NAN" });
  try {
    encodeKey(["ok", NaN]);
    t.fail("NaN accepted");
  } catch (e) {
    t.ok(e instanceof StorageError && /NaN/.test(e.message) && /part 1/.test(e.message), "message names the part");
  }
  t.throws(() => encodeKey(["\ud800"]), { code: "ERR_KEY_INVALID_STRING" });
  t.throws(() => encodeKey(["a\udc00b"]), { code: "ERR_KEY_INVALID_STRING" });
  t.throws(() => encodeKey([undefined as unknown as KeyPart]), { code: "ERR_KEY_TYPE" });
  t.throws(() => encodeKey([{} as unknown as KeyPart]), { code: "ERR_KEY_TYPE" });
  t.throws(() => encodeKey([1n as unknown as KeyPart]), { code: "ERR_KEY_TYPE" });
});

void t.test("key size limit", async (t) => {
  // tag + bytes + 2-byte terminator
  const fits = "x".repeat(MAX_KEY_BYTES - 3);
  t.equal(encodeKey([fits]).length, MAX_KEY_BYTES);
  t.throws(() => encodeKey([fits + "x"]), { code: "ERR_KEY_TOO_LARGE" });
  t.throws(() => encodeKey(["x".repeat(100_000)]), { code: "ERR_KEY_TOO_LARGE" });
  t.throws(() => encodeKey(["é".repeat(1000)]), { code: "ERR_KEY_TOO_LARGE" });
  t.throws(() => encodeKey(["\0".repeat(1000)]), { code: "ERR_KEY_TOO_LARGE" }); // escaping doubles it
  t.throws(() => encodeKey(["a".repeat(1000), "b".repeat(1000)]), { code: "ERR_KEY_TOO_LARGE" });
  // after a failure the scratch state does not leak into the next key
  t.same(decodeKey(encodeKey(["ok"])), ["ok"]);
});

void t.test("truncateUtf8 never splits a code point and keeps a prefix", async (t) => {
  check(t, 
    fc.property(fc.string({ unit: "grapheme" }), fc.integer({ min: 0, max: 40 }), (s, max) => {
      const cut = truncateUtf8(s, max);
      return s.startsWith(cut) && Buffer.byteLength(cut) <= max && (cut as unknown as { isWellFormed(): boolean }).isWellFormed()
        && (cut === s || Buffer.byteLength(s.slice(0, cut.length + (s.codePointAt(cut.length)! > 0xffff ? 2 : 1))) > max);
    }),
  );
});

void t.test("prefixEnd edge cases", async (t) => {
  t.same(prefixEnd(Buffer.from([1, 0xff, 0xff])), Buffer.from([2]));
  t.same(prefixEnd(Buffer.alloc(0)), Buffer.from([0xff]));
  t.throws(() => prefixEnd(Buffer.from([0xff])));
});

void t.test("decodeKey rejects malformed input", async (t) => {
  t.throws(() => decodeKey(Buffer.from([0x09])));
  t.throws(() => decodeKey(Buffer.from([0x04, 1, 2])));
  t.throws(() => decodeKey(Buffer.from([0x05, 0x61])));
  t.throws(() => decodeKey(Buffer.from([0x05, 0x61, 0x00, 0x07])));
});

void t.test("encodeKeyTransient gives the same bytes as encodeKey", async (t) => {
  check(t, fc.property(tuple, flags, (a, d) => encodeKeyTransient(a, d).equals(encodeKey(a, d))));
});
