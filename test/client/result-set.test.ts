// The client's result set: applying a change message turns the old ordered
// result into the new one, for any change the server can send (rows that the
// message does not mention keep their relative order); anything else is
// detected as out of sync instead of shown.
import fc from "fast-check";
import t from "tap";
import { OutOfSyncError, ResultSet } from "../../src/client/result-set.js";
import type { ChangeOp } from "../../src/client/protocol.js";

/** Ops as the server builds them: removes, then adds/updates by ascending final index. */
function opsFor(before: readonly string[], after: readonly string[], updated: ReadonlySet<string>): ChangeOp[] {
  const was = new Set(before);
  const now = new Set(after);
  const ops: ChangeOp[] = before.filter((k) => !now.has(k)).map((key) => ({ op: "remove", key }));
  after.forEach((key, index) => {
    if (!was.has(key)) ops.push({ op: "add", key, index, row: { key, v: 1 } });
    else if (updated.has(key)) ops.push({ op: "update", key, index, row: { key, v: 2 } });
  });
  return ops;
}

t.test("apply(ops) turns the old result into the new one", async (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 15 }),
      fc.uniqueArray(fc.integer({ min: 41, max: 60 }), { maxLength: 6 }),
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      fc.array(fc.nat(), { minLength: 70, maxLength: 70 }),
      (oldKeys, newKeys, removed, moved, positions) => {
        const before = oldKeys.map(String);
        const kept = before.filter((_, i) => !(removed[i] ?? false));
        const movers = new Set(kept.filter((_, i) => moved[i] ?? false));
        // Unchanged rows keep their relative order; movers and new rows go anywhere.
        const after = kept.filter((k) => !movers.has(k));
        for (const [i, k] of [...movers, ...newKeys.map(String)].entries()) after.splice((positions[i] ?? 0) % (after.length + 1), 0, k);
        const set = new ResultSet();
        set.reset(before.map((key) => ({ key, row: { key, v: 0 } })));
        set.apply(opsFor(before, after, movers));
        return JSON.stringify(set.entries.map((e) => e.key)) === JSON.stringify(after);
      },
    ),
    { numRuns: 2_000 },
  );
  t.pass("2,000 random changes applied");
});

t.test("a change that does not fit is OutOfSyncError, and leaves the rows as they were", async (t) => {
  const set = new ResultSet();
  set.reset([{ key: "a", row: {} }, { key: "b", row: {} }]);
  const bad: ChangeOp[][] = [
    [{ op: "add", key: "a", index: 0, row: {} }],
    [{ op: "remove", key: "zz" }],
    [{ op: "update", key: "zz", index: 0, row: {} }],
    [{ op: "add", key: "c", index: 5, row: {} }],
    [{ op: "add", key: "c", index: 1, row: {} }, { op: "add", key: "d", index: 0, row: {} }],
    [{ op: "remove", key: "a" }, { op: "remove", key: "a" }],
  ];
  for (const ops of bad) t.throws(() => set.apply(ops), OutOfSyncError, JSON.stringify(ops));
  t.same(set.entries.map((e) => e.key), ["a", "b"]);
  set.apply([{ op: "remove", key: "a" }, { op: "update", key: "b", index: 0, row: { x: 1 } }, { op: "add", key: "c", index: 1, row: {} }]);
  t.same(set.rows, [{ x: 1 }, {}]);
});
