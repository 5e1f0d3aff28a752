// The reply cache of pure commands (src/host/reply-cache.ts): what it keeps,
// and that a write to the entity drops it. The Runtime's rules around it
// (when a call may be looked up) are tested end to end in
// test/e2e/customer-registry.test.ts.
import t from "tap";
import { exactJson, ReplyCache, type ReplySlot } from "../../src/host/reply-cache.js";

t.test("a filled reply is a hit until its entity is written", async (t) => {
  const c = new ReplyCache(1 << 20);
  const slot = c.lookup("customer\u0000a", "get", undefined) as ReplySlot;
  t.equal(slot.filled, false);
  t.equal(c.lookup("customer\u0000a", "get", undefined), slot, "a second call while the first runs shares its placeholder");
  c.fill(slot, { name: "Ann" });
  const hit = c.lookup("customer\u0000a", "get", undefined) as ReplySlot;
  t.equal(hit.filled, true);
  t.same(hit.value, { name: "Ann" });
  t.not(c.lookup("customer\u0000a", "get", { full: true }), hit, "another body is another entry");
  t.not(c.lookup("customer\u0000b", "get", undefined), hit, "another entity too");

  c.dropEntity("customer\u0000a");
  const after = c.lookup("customer\u0000a", "get", undefined) as ReplySlot;
  t.equal(after.filled, false, "the write dropped it");
  t.equal(c.lookup("customer\u0000b", "get", undefined)?.filled, false, "b's placeholder is untouched");
  t.match(c.stats(), { hits: 1, stores: 1, invalidations: 2 });
});

t.test("a placeholder dropped by a write, or abandoned, is not filled", async (t) => {
  const c = new ReplyCache(1 << 20);
  const slot = c.lookup("e\u00001", "get", undefined) as ReplySlot;
  c.dropEntity("e\u00001");
  c.fill(slot, 1);
  t.equal(c.lookup("e\u00001", "get", undefined)?.filled, false);
  const other = c.lookup("e\u00002", "get", undefined) as ReplySlot;
  c.abandon(other);
  t.equal(c.stats().entries, 1);
  c.fill(other, 2);
  t.equal(c.lookup("e\u00002", "get", undefined)?.filled, false);
  c.clear();
  t.equal(c.stats().entries, 0);
  t.equal(c.stats().bytes, 0);
});

t.test("the budget evicts the least recently used; large replies and bodies are not kept", async (t) => {
  const c = new ReplyCache(4_000);
  const fill = (id: string, v: unknown): void => c.fill(c.lookup(id, "get", undefined) as ReplySlot, v);
  fill("a", "x".repeat(100));
  fill("b", "x".repeat(100));
  t.equal(c.lookup("a", "get", undefined)?.filled, true, "a used again");
  for (let i = 0; i < 20 && c.stats().evictions === 0; i++) fill(`n${i}`, "x".repeat(100));
  t.ok(c.stats().evictions > 0);
  t.equal(c.lookup("b", "get", undefined)?.filled, false, "b, least recently used, went first");
  t.ok(c.stats().bytes <= 4_000);
  fill("big", "x".repeat(300));
  t.equal(c.lookup("big", "get", undefined)?.filled, false, "over a sixteenth of the budget: not kept");
  t.equal(c.lookup("a", "get", { text: "y".repeat(2_000) }), undefined, "a body over 1 KiB as JSON is not a key");
});

t.test("exactJson: JSON only for values JSON gives back exactly", async (t) => {
  t.equal(exactJson({ a: [1, "x", true, null, { b: -1.5 }], "": {} }), '{"a":[1,"x",true,null,{"b":-1.5}],"":{}}');
  t.equal(exactJson("s"), '"s"');
  t.equal(exactJson(null), "null");
  t.equal(exactJson(Object.assign(Object.create(null) as object, { a: 1 })), '{"a":1}', "a null-prototype object is plain");
  class Point { x = 1; }
  const inexact: Array<[string, unknown]> = [
    ["a Date", { at: new Date(0) }],
    ["a Date in an array", [1, new Date(0)]],
    ["a Map", new Map([[1, 2]])],
    ["a Set", { s: new Set([1]) }],
    ["an undefined field", { a: undefined }],
    ["undefined in an array", [undefined]],
    ["a hole in an array", [1, , 3]],
    ["undefined", undefined],
    ["NaN", { n: NaN }],
    ["Infinity", [Infinity]],
    ["-0", { z: -0 }],
    ["a class instance", new Point()],
    ["a typed array", { b: new Uint8Array(2) }],
  ];
  for (const [what, v] of inexact) t.equal(exactJson(v), null, what);
  t.equal(exactJson({ n: 1n }), null, "a BigInt");
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  t.throws(() => exactJson(cycle), TypeError, "what JSON.stringify throws, it throws");
  const c = new ReplyCache(1 << 20);
  c.fill(c.lookup("e", "get", undefined) as ReplySlot, { n: 1n });
  c.fill(c.lookup("f", "get", undefined) as ReplySlot, cycle);
  t.equal(c.stats().entries, 0, "replies JSON cannot write are not kept (as before)");
});

t.test("hitJson answers a kept bodyless reply as JSON, and counts or files nothing otherwise", async (t) => {
  const c = new ReplyCache(1 << 20);
  t.equal(c.hitJson("e\u00001", "get"), undefined);
  t.match(c.stats(), { hits: 0, misses: 0, entries: 0 }, "an absent reply: no miss counted, no placeholder filed");
  const slot = c.lookup("e\u00001", "get", undefined) as ReplySlot;
  t.equal(c.hitJson("e\u00001", "get"), undefined, "a placeholder is not an answer");
  c.fill(slot, { v: 1, tags: ["a"] });
  t.equal(c.hitJson("e\u00001", "get"), '{"v":1,"tags":["a"]}');
  t.equal(c.hitJson("e\u00001", "other"), undefined, "another command");
  t.match(c.stats(), { hits: 1, misses: 1, entries: 1 });
  // Kept as JSON, the value is a fresh copy for each caller.
  const first = (c.lookup("e\u00001", "get", undefined) as ReplySlot).value as { tags: string[] };
  first.tags.push("changed by a caller");
  t.same((c.lookup("e\u00001", "get", undefined) as ReplySlot).value, { v: 1, tags: ["a"] }, "one caller's change does not reach the next");
  // A reply JSON cannot give back is kept as the value itself, and is no JSON answer.
  const at = new Date(5);
  const dated = c.lookup("e\u00002", "get", undefined) as ReplySlot;
  c.fill(dated, { at });
  t.equal(c.hitJson("e\u00002", "get"), undefined);
  t.equal(((c.lookup("e\u00002", "get", undefined) as ReplySlot).value as { at: Date }).at, at, "the Date itself");
  // With a body, only `lookup` answers.
  const withBody = c.lookup("e\u00003", "get", { full: true }) as ReplySlot;
  c.fill(withBody, 3);
  t.equal(c.hitJson("e\u00003", "get"), undefined);
  c.dropEntity("e\u00001");
  t.equal(c.hitJson("e\u00001", "get"), undefined, "a write dropped it");
});
