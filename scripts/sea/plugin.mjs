// esbuild plugin for the single-executable bundles (main and worker alike):
// - packages with native addons are redirected to src/sea/native-loader.ts,
//   which unpacks the embedded .node file to the cache folder and dlopens it;
// - optional native accelerators (msgpackr-extract, bufferutil, utf-8-validate)
//   become modules that throw, so their packages take their pure-JS paths;
// - string-width gets a printable-ASCII fast path: yargs lays out the whole
//   help text before every command (cacheHelpMessage), and string-width's
//   Unicode regexes and Intl.Segmenter cost tens of ms per start. The real
//   module still measures anything else (loaded on first use).
import { fileURLToPath } from "node:url";

const LOADER = fileURLToPath(new URL("../../src/sea/native-loader.ts", import.meta.url));

/**
 * @param {{ natives: Record<string, { replaces: string, exportAs: "module" | "loader", importer?: string }>, stubs: string[], asciiWidth?: string[] }} options
 *   natives: native name → the module specifier that loads it, and what that module exports
 *   ("module": the addon itself; "loader": a function returning it, as node-gyp-build does).
 */
export function nativeRedirectPlugin({ natives, stubs, asciiWidth = [] }) {
  const bySpecifier = new Map(Object.entries(natives).map(([name, n]) => [n.replaces, { name, ...n }]));
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const filter = new RegExp(`^(${[...bySpecifier.keys(), ...stubs].map(escape).join("|")})$`);
  return {
    name: "calyx-native-redirect",
    setup(build) {
      if (asciiWidth.length > 0) {
        const widthFilter = new RegExp(`^(${asciiWidth.map(escape).join("|")})$`);
        build.onResolve({ filter: widthFilter }, async (args) => {
          if (args.pluginData?.real) return undefined;
          // Each importer may use its own version of the package: resolve it from there.
          const real = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: { real: true } });
          if (real.errors.length > 0) return { errors: real.errors };
          return { path: real.path, namespace: "calyx-ascii-width" };
        });
        build.onLoad({ filter: /.*/, namespace: "calyx-ascii-width" }, (args) => ({
          contents: [
            "const printableAscii = /^[\\x20-\\x7e]*$/;",
            "let real;",
            "module.exports = function stringWidth(string, options) {",
            "  if (typeof string === 'string' && printableAscii.test(string)) return string.length;",
            `  real ??= require(${JSON.stringify(args.path)});`,
            "  return (real.default ?? real)(string, options);",
            "};",
          ].join("\n"),
          loader: "js",
          resolveDir: process.cwd(),
        }));
      }
      build.onResolve({ filter }, (args) => {
        const native = bySpecifier.get(args.path);
        if (native) {
          // node-gyp-build-optional-packages also serves other packages; only redirect the one we embed.
          if (native.importer && !args.importer.includes(`/node_modules/${native.importer}/`)) {
            return { errors: [{ text: `${args.path} imported by ${args.importer}: only ${native.importer} is expected to load a native this way; embed that native in pkg.config.json` }] };
          }
          return { path: native.name, namespace: "calyx-native" };
        }
        return { path: args.path, namespace: "calyx-stub" };
      });
      build.onLoad({ filter: /.*/, namespace: "calyx-native" }, (args) => {
        const native = [...bySpecifier.values()].find((n) => n.name === args.path);
        const load = `require(${JSON.stringify(LOADER)}).loadNative(${JSON.stringify(args.path)})`;
        const contents = native?.exportAs === "loader" ? `module.exports = function loadNative() { return ${load}; };` : `module.exports = ${load};`;
        return { contents, loader: "js", resolveDir: process.cwd() };
      });
      build.onLoad({ filter: /.*/, namespace: "calyx-stub" }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in the calyx executable (the pure-JS path is used)`)});`,
        loader: "js",
      }));
    },
  };
}
