import t from "tap";
import type { ProjectLoadError } from "../../src/host/loader.js";
import { transpilerFor } from "../../src/host/transpile.js";
import { ModuleLoader } from "../../src/host/loader.js";

t.test("loads TypeScript with relative imports (.js → .ts) and builtins", async (t) => {
  const dir = t.testdir({
    src: {
      "a.ts": "import { b } from './b.js';\nimport { tag } from 'calyx';\nexport const a: string = tag + b;\n",
      "b.ts": "export const b: number = 2;\n",
    },
  });
  const loader = new ModuleLoader(dir, { calyx: { tag: "x" } }, { transpile: transpilerFor(dir) });
  t.same(loader.load(`${dir}/src/a.ts`), { a: "x2" });
});

t.test("a syntax error gives file:line:column and a code frame", async (t) => {
  const dir = t.testdir({ src: { "bad.ts": "const ok = 1;\nconst no = ;\n" } });
  const loader = new ModuleLoader(dir, {}, { transpile: transpilerFor(dir) });
  const error = t.throws(() => loader.load(`${dir}/src/bad.ts`)) as unknown as ProjectLoadError;
  t.equal(error.problem.code, "ERR_MODULE_SYNTAX");
  t.equal(error.problem.file, "src/bad.ts");
  t.equal(error.problem.line, 2);
  t.equal(error.problem.column, 12);
  t.match(error.problem.frame ?? "", /> 2 \| const no = ;\n\s+\|\s+\^/);
});

t.test("a module that throws at import names the line", async (t) => {
  const dir = t.testdir({ src: { "t.ts": "const x: number = 1;\nthrow new Error('nope');\n" } });
  const error = t.throws(() => new ModuleLoader(dir, {}, { transpile: transpilerFor(dir) }).load(`${dir}/src/t.ts`)) as unknown as ProjectLoadError;
  t.equal(error.problem.code, "ERR_MODULE_THREW");
  t.match(error.problem.message, /^src\/t\.ts:2:\d+: threw while loading: nope$/);
});

t.test("a missing relative import is named", async (t) => {
  const dir = t.testdir({ src: { "m.ts": "import { x } from './missing.js';\nexport const y = x;\n" } });
  const error = t.throws(() => new ModuleLoader(dir, {}, { transpile: transpilerFor(dir) }).load(`${dir}/src/m.ts`)) as unknown as ProjectLoadError;
  t.equal(error.problem.code, "ERR_MODULE_NOT_FOUND");
  t.match(error.problem.message, /cannot find module '\.\/missing\.js'/);
});
