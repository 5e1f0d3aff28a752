// The examples' own tests, run the way a user runs them: `calyx test <dir>`.
import t from "tap";
import { resolve } from "node:path";
import { runCalyx } from "./helpers.js";

for (const example of ["customer-registry", "shopping-cart"]) {
  t.test(`calyx test examples/${example}`, async (t) => {
    const r = await runCalyx(["test", resolve(import.meta.dirname, "../../examples", example)], 120_000);
    t.equal(r.code, 0, "the example's tests pass");
    t.match(r.stdout, /# fail 0/);
    t.notMatch(r.stdout, /# pass 0\b/);
    if (r.code !== 0) t.comment(r.stdout + r.stderr);
  });
}

t.test("calyx test reports a failing test with a non-zero exit", async (t) => {
  const dir = t.testdir({
    src: { "c.ts": "import { keyValueEntity } from 'calyx';\nexport const c = keyValueEntity({ name: 'c', initialState: () => 0, commands: {} });\n" },
    test: { "c.test.ts": "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('fails', () => assert.equal(1, 2));\n" },
  });
  const r = await runCalyx(["test", dir]);
  t.not(r.code, 0);
  t.match(r.stdout, /# fail 1/);
});

t.test("calyx test with no tests says so", async (t) => {
  const dir = t.testdir({ src: { "c.ts": "export const x = 1;\n" } });
  const r = await runCalyx(["test", dir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /no tests found/);
});
