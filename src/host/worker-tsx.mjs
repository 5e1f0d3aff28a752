// Worker entry when Calyx runs from its TypeScript sources (tests, `node
// --import tsx bin/calyx.ts`): Node 20 does not apply --import hooks to
// workers, so register tsx here, then load the real entry.
import { register } from "tsx/esm/api";

register();
await import("./worker-main.ts");
