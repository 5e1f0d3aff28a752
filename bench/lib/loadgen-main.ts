// Entry of a load-generator process: runs the jobs the driver sends over IPC,
// one at a time, and answers each with its raw result.
import type { GeneratorMessage, Job } from "./loadgen-protocol.js";
import { runJob } from "./loadgen.js";

function reply(message: GeneratorMessage): void {
  process.send?.(message);
}

process.on("message", (job: Job) => {
  runJob(job).then(
    (result) => reply({ type: "result", result }),
    (error: unknown) => reply({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
reply({ type: "ready" });
