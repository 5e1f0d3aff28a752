// Emits the declarations of the `calyx` module and `calyx/testkit` (src/api)
// so `calyx new` can give an editor the types — from the executable too, where
// there is no repository on disk. Cached by the sources' modification times.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const SRC = "src/api";
const OUT = "build/api-types.json";

export function apiTypes() {
  const files = readdirSync(SRC).filter((f) => f.endsWith(".ts")).map((f) => join(SRC, f));
  const newest = Math.max(...files.map((f) => statSync(f).mtimeMs), statSync(new URL(import.meta.url)).mtimeMs);
  if (existsSync(OUT) && statSync(OUT).mtimeMs > newest) return JSON.parse(readFileSync(OUT, "utf8"));
  const out = {};
  const program = ts.createProgram([join(SRC, "index.ts"), join(SRC, "testkit.ts")], {
    declaration: true, emitDeclarationOnly: true, strict: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ["node"], skipLibCheck: true,
  });
  program.emit(undefined, (name, text) => {
    const base = name.replace(/^.*src\/api\//, "");
    if (!base.includes("/")) out[base] = text;
  });
  mkdirSync("build", { recursive: true });
  writeFileSync(OUT, JSON.stringify(out));
  return out;
}
