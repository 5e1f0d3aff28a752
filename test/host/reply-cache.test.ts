// The reply cache of pure commands (src/host/reply-cache.ts): what it keeps,
// and that a write to the entity drops it. The Runtime's rules around it
// (when a call may be looked up) are tested end to end in
// test/e2e/customer-registry.test.ts.
import t from "tap";
import { ReplyCache, type ReplySlot } from "../../src/host/reply-cache.js";

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
