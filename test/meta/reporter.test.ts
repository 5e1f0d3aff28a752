// The CI-facing reporter: passes TAP through and ends with "N passed, N failed, N skipped".
import t from "tap";
import CountingReporter from "../reporter.mjs";

async function report(tap: string): Promise<string> {
  const r = new CountingReporter();
  let out = "";
  r.on("data", (d: Buffer) => { out += d.toString(); });
  const done = new Promise((res) => r.on("end", res));
  // Split mid-line on purpose: lines may straddle chunks.
  r.write(tap.slice(0, 17));
  r.end(tap.slice(17));
  await done;
  return out;
}

t.test("counts leaf assertions, not subtest summaries, and passes the text through", async (t) => {
  const tap = [
    "# Subtest: file.test.ts",
    "    ok 1 - equal",
    "    not ok 2 - broken",
    "    ok 3 - later # SKIP no chromium",
    "    ok 4 - message mentioning # skipped 0 in passing",
    "    ok 5 - escaped \\# SKIP is not a directive",
    "    1..5",
    "not ok 1 - file.test.ts # time=12ms",
    "",
  ].join("\n");
  const out = await report(tap);
  t.ok(out.startsWith(tap), "TAP is passed through unchanged");
  t.match(out, /\n3 passed, 1 failed, 1 skipped\n$/);
});
