// Type-aware lint: the rules that catch real bugs in async, multi-threaded code.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "dist/", "**/.calyx/", ".tap/", "bench/results/"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "no-debugger": "error",
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "examples/*/test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      // tap's t.test() promises are awaited by tap itself: the idiom is to not await them.
      "@typescript-eslint/no-floating-promises": ["error", {
        allowForKnownSafeCalls: [
          { from: "package", package: "tap", name: ["test", "Test", "TAP"] },
          { from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] },
        ],
        allowForKnownSafePromises: [{ from: "package", package: "@tapjs/core", name: "PromiseWithSubtest" }],
      }],
    },
  },
);
