// The routing index never misses: every pipeline whose WHERE is TRUE for a
// row is among the ones the index offers that row (it may offer more).
import fc from "fast-check";
import t from "tap";
import { compileView } from "../../src/query/compile-view.js";
import { evaluate } from "../../src/query/exec/evaluate.js";
import { RouteIndex } from "../../src/live/route-index.js";
import { routeSpec } from "../../src/live/route-spec.js";

const QUERIES = {
  eq: "SELECT * FROM t WHERE a = :x",
  eq2: "SELECT * FROM t WHERE a = :x AND b = :y AND c > 0",
  eqLit: "SELECT * FROM t WHERE a = 'k' AND b = :y",
  inList: "SELECT * FROM t WHERE a IN (:x, :y, 'k')",
  anyParam: "SELECT * FROM t WHERE b = ANY(:xs)",
  anyCol: "SELECT * FROM t WHERE :x = ANY(tags)",
  range: "SELECT * FROM t WHERE c >= :lo AND c < :hi",
  between: "SELECT * FROM t WHERE c BETWEEN :lo AND :hi",
  flipped: "SELECT * FROM t WHERE :lo < c",
  text: "SELECT * FROM t WHERE a > :x",
  all: "SELECT * FROM t WHERE a LIKE :x OR c IS NULL",
  like: "SELECT * FROM t WHERE a LIKE :x",
  likeLit: "SELECT * FROM t WHERE a LIKE 'k%' AND c > :lo",
  likeRange: "SELECT * FROM t WHERE a LIKE :x AND a < :y",
};
const view = compileView({ name: "t", table: "t", queries: Object.fromEntries(Object.entries(QUERIES).map(([k, sql]) => [k, { sql }])) });

const scalar = fc.oneof(fc.constantFrom("k", "m", "", "é", "k%", "%", "é%", "ké", "\u{10FFFF}%", "\u{10FFFF}x", "\uD7FF%", "\uE000"), fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, -0), fc.boolean(), fc.constant(null));
const params = fc.record({ x: scalar, y: scalar, lo: scalar, hi: scalar, xs: fc.array(scalar, { maxLength: 3 }) });
const row = fc.record({ a: scalar, b: scalar, c: scalar, tags: fc.oneof(fc.array(scalar, { maxLength: 3 }), scalar) }, { requiredKeys: [] });

t.test("routing is a superset of the pipelines whose filter passes", async (t) => {
  for (const [name, sql] of Object.entries(QUERIES)) {
    const q = view.queries[name];
    if (q === undefined) throw new Error(name);
    const spec = routeSpec(q.plan.filter);
    fc.assert(
      fc.property(fc.array(params, { minLength: 1, maxLength: 20 }), fc.array(row, { minLength: 1, maxLength: 20 }), (ps, rows) => {
        const index = new RouteIndex<number>(spec);
        ps.forEach((p, i) => index.add(i, p));
        for (const r of rows) {
          const offered = new Set<number>();
          index.match(r, (i) => offered.add(i));
          for (let i = 0; i < ps.length; i++) {
            const pass = q.plan.filter === null || evaluate(q.plan.filter, r, ps[i] as Record<string, unknown>) === true;
            if (pass && !offered.has(i)) return false;
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
    t.pass(`${name}: ${spec.kind} (${sql})`);
  }
  t.equal(routeSpec(view.queries["eq2"]?.plan.filter ?? null).kind, "eq");
  t.equal(routeSpec(view.queries["between"]?.plan.filter ?? null).kind, "range");
  t.equal(routeSpec(view.queries["all"]?.plan.filter ?? null).kind, "all");
  t.equal(routeSpec(view.queries["like"]?.plan.filter ?? null).kind, "range", "LIKE 'prefix%' is routed by an interval");
});

t.test("a LIKE prefix pipeline is offered only the rows in its prefix's interval", async (t) => {
  const index = new RouteIndex<string>(routeSpec(view.queries["like"]?.plan.filter ?? null));
  index.add("k", { x: "k%" });
  index.add("exact", { x: "m" });
  index.add("every", { x: "%" });
  const offered = (a: unknown): string[] => {
    const out: string[] = [];
    index.match({ a }, (p) => out.push(p));
    return out.sort();
  };
  t.same(offered("kite"), ["every", "k"]);
  t.same(offered("m"), ["every", "exact"]);
  t.same(offered("l"), ["every"], "between the prefixes: only the pipeline without a prefix");
  t.same(offered(3), [], "not a string: no LIKE can match");
});
