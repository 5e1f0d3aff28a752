// `npm run bench -- load --url http://127.0.0.1:9000 --rate 5000 [--duration 10] [--mix seed|read-id|read-name|write|hot] [--customers 100000]`
// Open-loop load against a server you started yourself (for profiling).
import { Generator } from "./generator.js";
import { stepLine } from "../scenarios/seed-table.js";
import { seedMix, type OpSpec } from "./workload.js";

export const MIXES: Record<string, () => OpSpec[]> = {
  seed: seedMix,
  "read-id": () => [{ name: "read-id", weight: 1, kind: "get-id" }],
  "read-name": () => [{ name: "read-name", weight: 1, kind: "get-name" }],
  write: () => [{ name: "write", weight: 1, kind: "post" }],
  hot: () => [{ name: "write", weight: 1, kind: "post", hotId: "hot" }],
};

export async function runAdHocLoad(values: { url?: string | undefined; rate?: string | undefined; duration?: string | undefined; mix?: string | undefined; customers?: string | undefined; connections?: string | undefined }): Promise<number> {
  if (values.url === undefined || values.rate === undefined) {
    process.stderr.write("load: --url and --rate are required\n");
    return 2;
  }
  const url = new URL(values.url);
  const mix = MIXES[values.mix ?? "seed"];
  if (mix === undefined) {
    process.stderr.write(`load: unknown --mix (known: ${Object.keys(MIXES).join(", ")})\n`);
    return 2;
  }
  const generator = await Generator.start();
  try {
    const step = await generator.run({
      kind: "open", host: url.hostname, port: Number(url.port), serverPids: [], seed: 1,
      workload: { ops: mix(), dataset: { customers: Number(values.customers ?? 100_000) } },
      rate: Number(values.rate), warmupMs: 1_000, durationMs: Number(values.duration ?? 10) * 1000, drainMs: 2_000,
      connections: Number(values.connections ?? 128), abortBacklogMs: 5_000,
    }, { reads: ["read-id", "read-name"] });
    process.stdout.write(`${stepLine(`${values.url} @ ${values.rate}/s`, step)}\n`);
    for (const c of step.classes) process.stdout.write(`  ${c.name}: ${JSON.stringify(c.latency)} statuses ${JSON.stringify(c.statuses)}\n`);
    for (const n of step.notes) process.stdout.write(`  note: ${n}\n`);
  } finally {
    generator.stop();
  }
  return 0;
}
