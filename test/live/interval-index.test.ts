// The interval index against brute force: stab(v) = every interval containing v.
import fc from "fast-check";
import t from "tap";
import { IntervalIndex, type Bound } from "../../src/live/interval-index.js";

const bound = fc.option(fc.record({ value: fc.integer({ min: -20, max: 20 }), inclusive: fc.boolean() }), { nil: null });

function contains(lo: Bound<number> | null, hi: Bound<number> | null, v: number): boolean {
  if (lo !== null && (v < lo.value || (v === lo.value && !lo.inclusive))) return false;
  if (hi !== null && (v > hi.value || (v === hi.value && !hi.inclusive))) return false;
  return true;
}

t.test("stab finds exactly the intervals that contain the value, across adds and deletes", async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(bound, bound), { maxLength: 60 }),
      fc.array(fc.nat(80), { maxLength: 20 }),
      fc.array(fc.integer({ min: -25, max: 25 }), { minLength: 1, maxLength: 30 }),
      (intervals, deletions, probes) => {
        const index = new IntervalIndex<number, number>((a, b) => a - b);
        const live = new Map<number, [Bound<number> | null, Bound<number> | null]>();
        intervals.forEach(([lo, hi], i) => { index.set(i, lo, hi); live.set(i, [lo, hi]); });
        for (const d of deletions) { index.delete(d); live.delete(d); }
        for (const v of probes) {
          const got: number[] = [];
          index.stab(v, (i) => got.push(i));
          const want = [...live].filter(([, [lo, hi]]) => contains(lo, hi, v)).map(([i]) => i);
          if (JSON.stringify(got.sort((a, b) => a - b)) !== JSON.stringify(want.sort((a, b) => a - b))) return false;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass("500 random interval sets agree with brute force");
});
