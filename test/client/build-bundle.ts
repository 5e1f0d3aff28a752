// Builds the browser bundle of the client library (src/client) that the
// example's live page loads: examples/customer-registry/public/calyx-client.js.
// The bundle is committed (the page works without a build step); the test
// browser-bundle.test.ts fails when it is out of date with src/client.
//   node --import tsx test/client/build-bundle.ts      # rewrite it
import { build } from "esbuild";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const BUNDLE_PATH = fileURLToPath(new URL("../../examples/customer-registry/public/calyx-client.js", import.meta.url));

export async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("../../src/client/index.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    legalComments: "none",
    banner: { js: "// Calyx client library (src/client), bundled for browsers by test/client/build-bundle.ts. Do not edit." },
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error("esbuild produced no output");
  return out.text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(BUNDLE_PATH, await bundleClient());
  process.stdout.write(`wrote ${BUNDLE_PATH}\n`);
}
