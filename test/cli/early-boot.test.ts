// The entry points start the worker threads of run/dev before the CLI loads
// (src/cli/early-boot.ts): they must read exactly the thread count the CLI
// will use, and start nothing when the arguments are anything but plain.
import t from "tap";
import { availableParallelism } from "node:os";
import { workersFor } from "../../src/cli/early-boot.js";
import { workersAtStart } from "../../src/host/worker-start.js";

const cores = availableParallelism();

t.test("run and dev: --workers, or the cores", async (t) => {
  t.equal(workersFor(["run", "shop"]), cores);
  t.equal(workersFor(["dev"]), cores);
  t.equal(workersFor(["run", "shop", "--workers", "3"]), 3);
  t.equal(workersFor(["dev", "--port", "0", "--workers=2", "shop"]), 2);
  t.equal(workersFor(["run", "--data", "d", "--workers", "1", "--port", "9000"]), 1);
});

t.test("other commands start nothing", async (t) => {
  for (const args of [[], ["test", "shop"], ["views", "list"], ["build", "shop"], ["--version"], ["backup", "f"], ["shop", "run"]]) {
    t.equal(workersFor(args), undefined, args.join(" "));
  }
});

t.test("help, version and arguments the CLI will refuse start nothing", async (t) => {
  for (const args of [
    ["run", "--help"], ["dev", "-h"], ["run", "--version"],
    ["run", "--workers"], ["run", "--workers", "0"], ["run", "--workers", "-1"], ["run", "--workers", "1.5"],
    ["run", "--workers", "two"], ["run", "--workers="], ["run", "--workers", "2", "--workers", "3"],
    ["run", "--workers", "100000"], ["run", "--", "--workers", "2"],
  ]) {
    t.equal(workersFor(args), undefined, args.join(" "));
  }
});

t.test("the threads started before listening leave a core to the main thread; at least one", async (t) => {
  t.equal(workersAtStart(2, 2), 1, "two cores: one worker first, the other once listening");
  t.equal(workersAtStart(1, 2), 1);
  t.equal(workersAtStart(4, 1), 1);
  t.equal(workersAtStart(8, 8), 7);
  t.equal(workersAtStart(3, 16), 3, "as many as asked for when the cores allow");
});
