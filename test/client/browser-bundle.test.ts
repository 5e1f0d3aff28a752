// The committed browser bundle of the client is what src/client builds to now.
import { readFileSync } from "node:fs";
import t from "tap";
import { BUNDLE_PATH, bundleClient } from "./build-bundle.js";

t.test("examples/customer-registry/public/calyx-client.js is up to date with src/client", async (t) => {
  const fresh = await bundleClient();
  const committed = readFileSync(BUNDLE_PATH, "utf8");
  t.ok(fresh === committed, "rebuild it with: node --import tsx test/client/build-bundle.ts");
  t.notMatch(fresh, /from\s*["']ws["']/, "the bundle does not import the Node ws package statically");
});
