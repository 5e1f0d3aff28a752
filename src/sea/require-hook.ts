// Code that loads uWebSockets.js through `createRequire(import.meta.url)`
// (src/http/uws-server.ts, to fail clearly when a build is missing) escapes
// the bundler: inside the executable such a require would search for a
// node_modules folder beside the executable. Route that one module name to the
// embedded native instead. Imported first by main.ts and worker.ts.
import Module from "node:module";
import { loadNative } from "./native-loader.js";

type LoadFn = (request: string, parent: unknown, isMain: boolean) => unknown;

/** Module names served from embedded natives, whoever requires them. */
const REDIRECTED: Readonly<Record<string, string>> = { "uWebSockets.js": "uws" };

const internals = Module as unknown as { _load: LoadFn };
const original = internals._load;
internals._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
  const native = REDIRECTED[request];
  if (native !== undefined) return loadNative(native);
  return original.call(this, request, parent, isMain);
};
