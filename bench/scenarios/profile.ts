// profile: Calyx under the seed-table mix with `node --cpu-prof` (the flag is
// inherited by its worker threads, which write their own profiles), then the
// functions with the most self time per thread, mapped to src/ through the
// bundle's source map. Profiling slows V8 down: read shares, not latencies.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flameGraphSvg } from "../lib/flamegraph.js";
import type { StepResult } from "../lib/generator.js";
import { TMP_DIR } from "../lib/paths.js";
import { FLAME_MIN_SHARE, monotonicUs, renderProfiles, summarizeProfileDir, type ProfileWindow, type ThreadProfile } from "../lib/profile.js";
import { defineScenario } from "../lib/scenario.js";
import type { ScenarioResult, Session } from "../lib/session.js";
import { startTarget, TargetUnavailable } from "../lib/targets.js";
import { seedMix } from "../lib/workload.js";
import { SEED_GROUPS, stepLine } from "./seed-table.js";

export interface ProfileData {
  readonly rate: number;
  readonly customers: number;
  readonly durationMs: number;
  readonly dir: string;
  readonly step: StepResult | null;
  readonly profiles: readonly ThreadProfile[];
}

async function run(s: Session): Promise<ScenarioResult<ProfileData>> {
  const rate = s.setting("rate", 4_000, 8_000);
  const customers = s.setting("customers", 20_000, 100_000);
  const durationMs = s.setting("durationMs", 10_000, 30_000);
  const dir = s.options.cpuProfDir ?? join(TMP_DIR, `prof-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  let step: StepResult | null = null;
  // Only samples taken while the load ran: start-up (module loading, sucrase) is another story.
  let window: ProfileWindow | undefined;
  if (s.wants("calyx")) {
    s.log(`starting calyx with --cpu-prof (profiles in ${dir})…`);
    const dataDir = mkdtempSync(join(tmpdir(), "calyx-bench-profile-"));
    const base = {
      customers, dataDir, generator: s.generator, log: (l: string) => s.log(l), durability: s.options.durability,
      ...(s.options.calyx ? { calyx: s.options.calyx } : {}), ...(s.options.workers !== undefined ? { workers: s.options.workers } : {}),
    };
    try {
      // Preload without the profiler, so that the profile shows the mixed load only.
      const filler = await startTarget("calyx", base);
      await filler.stop();
      const t = await startTarget("calyx", { ...base, cpuProfDir: dir });
      try {
        await s.waitForQuiet();
        window = { fromUs: monotonicUs(), toUs: 0 };
        step = await s.generator.run({
          kind: "open", host: t.host, port: t.port, serverPids: [t.pids], seed: 9, workload: { ops: seedMix(), dataset: { customers } },
          rate, warmupMs: 1_000, durationMs, drainMs: 2_000, connections: s.options.connections, abortBacklogMs: 5_000,
        }, SEED_GROUPS);
        window = { fromUs: window.fromUs, toUs: monotonicUs() };
        s.log(`  ${stepLine(`calyx (profiling) @ ${rate}/s`, step)}`);
      } finally {
        const code = await t.stop();
        if (code !== 0) s.log(`  calyx exited with ${code}: profiles may be missing`);
      }
    } catch (error) {
      s.unavailable["calyx"] = error instanceof TargetUnavailable ? error.message : String(error);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const profiles = summarizeProfileDir(dir, 25, window);
  return s.save("profile", { rate, customers, durationMs }, { rate, customers, durationMs, dir, step, profiles }, render);
}

function render(r: ScenarioResult<ProfileData>): string[] {
  const d = r.data;
  const out = [`Calyx with \`node --cpu-prof\` under the seed-table mix at ${d.rate}/s for ${d.durationMs / 1000} s (${d.customers} customers). `
    + "Only samples taken while the load ran (warm-up included, start-up and preload excluded). "
    + "Self time per function, as a share of each thread's busy (non-idle) samples; the profiler itself slows V8 down, so read shares, not latencies."];
  if (d.step) out.push("", `Load while profiling: ${stepLine("calyx", d.step)}`);
  if (d.profiles.length === 0) out.push("", "No profiles were written.");
  out.push(...renderProfiles(d.profiles));
  for (const [t, why] of Object.entries(r.unavailable)) out.push("", `${t} was not profiled: ${why.split("\n")[0] ?? ""}`);
  return out;
}

/** One flame graph per profiled thread: profile-<n>-<thread>.svg. */
function charts(r: ScenarioResult<ProfileData>): Record<string, string> {
  const out: Record<string, string> = {};
  r.data.profiles.forEach((p, i) => {
    if (p.flame === undefined) return;
    const busy = p.wallMs > 0 ? ` — ${((p.busyMs / p.wallMs) * 100).toFixed(0)}% of a core` : "";
    out[`profile-${i + 1}-${p.thread}.svg`] = flameGraphSvg(
      p.flame,
      `Calyx ${p.thread} thread, seed-table mix at ${r.data.rate.toLocaleString("en-US")} req/s${busy}`,
      `node --cpu-prof, ${r.mode} run ${r.run.date.slice(0, 16).replace("T", " ")} UTC, commit ${r.run.commit}, ${p.file}; ` +
        `only samples taken under load; frames under ${FLAME_MIN_SHARE * 100}% of the thread's busy time are left out (their time stays in the caller's width).`,
    );
  });
  return out;
}

export default defineScenario<ProfileData>({
  name: "profile",
  description: "Calyx under the seed-table mix with --cpu-prof (main thread and workers): top self-time functions mapped to src/, and a flame graph per thread",
  run,
  render,
  charts,
});
