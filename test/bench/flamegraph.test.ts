// The profile scenario's flame graphs: the call tree built from a .cpuprofile
// (idle left out, frames of one function merged, small ones pruned, only
// samples inside the load's window) and its drawing (widths proportional to
// busy time, names escaped, labels function-first).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { flameGraphSvg, frameLabel, layoutFlame } from "../../bench/lib/flamegraph.js";
import { REPO_DIR } from "../../bench/lib/paths.js";
import { summarizeProfile, type FlameNode } from "../../bench/lib/profile.js";

const src = (file: string): string => `file://${join(REPO_DIR, "src", file)}`;
const frame = (functionName: string, url: string, columnNumber = 0) => ({ functionName, url, lineNumber: 0, columnNumber, scriptId: "0" });

// root ─┬─ fa (1,000 µs) ── fb (2,000 µs)
//       ├─ fc (3,000 µs)
//       ├─ (idle) (4,000 µs)
//       └─ fa, another position in the same function (500 µs) ── fd (1 µs: under 0.2 % of busy)
// and a function whose name needs escaping under fc.
const PROFILE = {
  nodes: [
    { id: 1, callFrame: frame("(root)", ""), children: [2, 4, 5, 6] },
    { id: 2, callFrame: frame("fa", src("a.ts")), children: [3] },
    { id: 3, callFrame: frame("fb", src("b.ts")) },
    { id: 4, callFrame: frame("fc", src("c.ts")), children: [8] },
    { id: 5, callFrame: frame("(idle)", "") },
    { id: 6, callFrame: frame("fa", src("a.ts"), 40), children: [7] },
    { id: 7, callFrame: frame("fd", src("d.ts")) },
    { id: 8, callFrame: frame("<init>&", src("e.ts")) },
  ],
  samples: [2, 3, 4, 5, 6, 7, 8],
  timeDeltas: [1_000, 2_000, 2_800, 4_000, 500, 1, 200],
  startTime: 0,
  endTime: 10_501,
};

function child(n: FlameNode, name: string): FlameNode {
  const c = n.children.find((x) => x.name === name);
  if (c === undefined) throw new Error(`${n.name} has no child ${name}: ${n.children.map((x) => x.name).join(", ")}`);
  return c;
}

const dir = mkdtempSync(join(tmpdir(), "calyx-flame-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "main.cpuprofile");
writeFileSync(file, JSON.stringify(PROFILE));

void t.test("the tree: busy samples only, one frame per function and parent, small frames pruned", async (t) => {
  const flame = summarizeProfile(file).flame;
  if (flame === undefined) throw new Error("no flame tree");
  t.equal(flame.ms, 6.5, "the root is every busy sample (idle left out)");
  t.same(flame.children.map((c) => c.name), ["src/a.ts:fa", "src/c.ts:fc"], "fa's two positions merged, widest first, no idle frame");
  const fa = child(flame, "src/a.ts:fa");
  t.equal(fa.ms, 3.5, "fa's merged time is both positions' and their callees'");
  t.same(fa.children.map((c) => c.name), ["src/b.ts:fb"], "fd (1 µs) pruned");
  t.equal(child(fa, "src/b.ts:fb").ms, 2);
  t.equal(child(flame, "src/c.ts:fc").ms, 3);
});

void t.test("the tree holds only the samples inside the window", async (t) => {
  const flame = summarizeProfile(file, 5, { fromUs: 0, toUs: 3_500 }).flame;
  if (flame === undefined) throw new Error("no flame tree");
  t.equal(flame.ms, 3);
  t.same(flame.children.map((c) => c.name), ["src/a.ts:fa"], "fc ran after the window");
});

void t.test("layout: widths proportional to time, callees inside their caller", async (t) => {
  const tree: FlameNode = {
    name: "all", ms: 10, children: [
      { name: "src/a.ts:fa", ms: 6, children: [{ name: "src/b.ts:fb", ms: 1.5, children: [] }, { name: "src/c.ts:fc", ms: 3, children: [] }] },
      { name: "src/d.ts:fd", ms: 4, children: [] },
    ],
  };
  const rects = layoutFlame(tree, 1_000);
  const at = (name: string) => rects.find((r) => r.name === name);
  t.match(at("all"), { depth: 0, x: 0, width: 1_000 });
  t.match(at("src/a.ts:fa"), { depth: 1, x: 0, width: 600 });
  t.match(at("src/d.ts:fd"), { depth: 1, x: 600, width: 400 });
  t.match(at("src/b.ts:fb"), { depth: 2, x: 0, width: 150 });
  t.match(at("src/c.ts:fc"), { depth: 2, x: 150, width: 300 });
  t.same(layoutFlame({ name: "all", ms: 0, children: [] }), [], "an empty profile draws nothing");
});

void t.test("the SVG: one frame per node, titles with time and share, names escaped", async (t) => {
  const flame = summarizeProfile(file).flame;
  if (flame === undefined) throw new Error("no flame tree");
  const svg = flameGraphSvg(flame, "main <thread>", "a note");
  t.equal(svg.match(/data-kind=/g)?.length, 5, "all, fa, fb, fc and <init>& under fc");
  t.match(svg, "<title>src/c.ts:fc — 3.0 ms, 46.2% of busy</title>");
  t.match(svg, "src/e.ts:&lt;init&gt;&amp; — 0.2 ms");
  t.match(svg, "main &lt;thread&gt;");
  t.notMatch(svg, "<init>", "no raw name in the markup");
  t.match(svg, /data-kind="project"/, "src/ frames coloured as the project's");
});

void t.test("labels put the function first", async (t) => {
  t.equal(frameLabel("src/storage/committer.ts:#apply", 3), "#apply committer.ts");
  t.equal(frameLabel("lmdb (write.js):executeTxnCallbacks", 2), "executeTxnCallbacks lmdb/write.js");
  t.equal(frameLabel("node:internal/timers processTimers", 1), "processTimers node:internal/timers");
  t.equal(frameLabel("(garbage collector)", 1), "(garbage collector)");
  t.equal(frameLabel("anything", 0), "all busy samples");
});
