// hot-entity: every write goes to one id. One writer per entity means these
// commands serialise; only group commit (many commands per fsync) lets them
// beat one fsync per command (~4,000/s on this disk). Closed loop gives
// commands/s; open loop at fixed rates gives p99 at a given load.
import type { StepResult } from "../lib/generator.js";
import { defineScenario } from "../lib/scenario.js";
import type { ScenarioResult, Session } from "../lib/session.js";
import { check, fmt, fmtRatio, num, pct, ratio, spread, table } from "../lib/stats.js";
import type { TargetName } from "../lib/targets.js";
import { measureThroughput, type ThroughputResult } from "../lib/throughput.js";
import type { OpSpec } from "../lib/workload.js";

const ORDER: readonly TargetName[] = ["uws-hello", "fastify-sqlite", "restate", "calyx"];
const HOT: OpSpec = { name: "write", weight: 1, kind: "post", hotId: "hot" };
/** Issue 8: at least this many commands/s on one entity. */
const TARGET_PER_SEC = 10_000;

export interface HotData {
  readonly connections: number;
  readonly closedMs: number;
  readonly rates: readonly number[];
  readonly closed: readonly { target: TargetName; repeat: number; result: ThroughputResult }[];
  readonly open: readonly { target: TargetName; rate: number; repeat: number; step: StepResult }[];
}

async function run(s: Session): Promise<ScenarioResult<HotData>> {
  const closedMs = s.setting("closedMs", 3_000, 10_000);
  const rates = s.listSetting("rates", [1_000, 5_000], [1_000, 5_000, 10_000]);
  const warmupMs = s.setting("warmupMs", 300, 2_000);
  const durationMs = s.setting("durationMs", 1_500, 10_000);
  const connections = 64;
  const targets = await s.startTargets(ORDER, { customers: 1_000 });
  const closed: HotData["closed"][number][] = [];
  const open: HotData["open"][number][] = [];
  try {
    for (let repeat = 0; repeat < s.options.repeats; repeat++) {
      for (const t of targets) {
        await s.waitForQuiet();
        const result = await measureThroughput({
          host: t.host, port: t.port, serverPids: t.pids, workload: { ops: [HOT], dataset: { customers: 1_000, paths: t.paths } },
          connections, warmupMs: s.options.quick ? 0 : 1_000, durationMs: closedMs, seed: 5 + repeat,
        }, s.generator);
        closed.push({ target: t.name, repeat, result });
        s.log(`  ${t.name}: closed loop (${result.tool} -c${connections}) ${num(result.rate)} commands/s, p99 ${num(result.p99)} ms, server ${pct(result.serverCpu)}${result.errors > 0 ? `, ${result.errors} errors` : ""}`);
      }
      for (const rate of rates) {
        for (const t of targets) {
          await s.waitForQuiet();
          const step = await s.generator.run({
            kind: "open", host: t.host, port: t.port, serverPids: s.pidsFor(t), seed: 50 + repeat,
            workload: { ops: [HOT], dataset: { customers: 1_000, paths: t.paths } }, rate, warmupMs, durationMs, drainMs: 1_000,
            connections: s.options.connections, abortBacklogMs: 1_000,
          });
          open.push({ target: t.name, rate, repeat, step });
          const w = step.classes[0]?.latency;
          s.log(`  ${t.name} @ ${num(rate)}/s: ${num(step.achievedRate)}/s, p50 ${num(w?.p50 ?? NaN)} p99 ${num(w?.p99 ?? NaN)} ms, server ${pct(step.serverCpu)}${step.verdict === "ok" ? "" : ` [${step.verdict}]`}`);
        }
      }
    }
  } finally {
    await s.stopAll();
  }
  return s.save("hot-entity", { closedMs, rates, warmupMs, durationMs, connections, id: "hot" }, { connections, closedMs, rates, closed, open }, render);
}

function render(r: ScenarioResult<HotData>): string[] {
  const d = r.data;
  const present = ORDER.filter((t) => d.closed.some((x) => x.target === t));
  const out: string[] = [`All writes are POST /customers/hot (one entity; Restate: POST /customer/hot/create, one virtual object). Closed loop: ${d.closed[0]?.result.tool ?? "wrk"} with ${d.connections} connections for ${d.closedMs / 1000} s; open loop at fixed rates, latency from intended send time (ms, median (min–max) over repeats).`];
  const rows = present.map((t) => {
    const c = d.closed.filter((x) => x.target === t).map((x) => x.result);
    const cells = d.rates.map((rate) => {
      const st = d.open.filter((x) => x.target === t && x.rate === rate).map((x) => x.step);
      const p99 = fmt(spread(st.map((x) => x.classes[0]?.latency.p99)));
      const sat = st.some((x) => x.verdict === "server-saturated") ? " (saturated)" : "";
      return `${p99}${sat}`;
    });
    return [t, fmt(spread(c.map((x) => x.rate))), fmt(spread(c.map((x) => x.p99))), pct(spread(c.map((x) => x.serverCpu))?.median), ...cells];
  });
  out.push("", ...table(["server", "commands/s (closed loop)", "closed p99", "server CPU", ...d.rates.map((x) => `p99 @ ${num(x)}/s`)], rows));
  const calyx = d.closed.filter((x) => x.target === "calyx").map((x) => x.result.rate);
  if (calyx.length > 0) {
    const med = spread(calyx)?.median;
    const sqlite = d.closed.filter((x) => x.target === "fastify-sqlite").map((x) => x.result.rate);
    out.push("", ...table(["target", "measured", "status"], [
      [`Calyx ≥ ${num(TARGET_PER_SEC)} commands/s on one entity`, fmt(spread(calyx)), check(med !== undefined ? med >= TARGET_PER_SEC : undefined)],
      ["Calyx ÷ Fastify + SQLite", fmtRatio(ratio(calyx, sqlite)), ""],
      ...(present.includes("restate") ? [["Calyx ÷ Restate", fmtRatio(ratio(calyx, d.closed.filter((x) => x.target === "restate").map((x) => x.result.rate))), ""]] : []),
    ]));
  }
  for (const [t, why] of Object.entries(r.unavailable)) out.push("", `${t} was not measured: ${why.split("\n")[0] ?? ""}`);
  return out;
}

function headline(r: ScenarioResult<HotData>): string[] {
  const m = (t: TargetName): string => {
    const v = spread(r.data.closed.filter((x) => x.target === t).map((x) => x.result.rate));
    return v ? num(v.median) : "—";
  };
  const restate = r.data.closed.some((x) => x.target === "restate") ? ` vs Restate ${m("restate")}` : "";
  return [`hot-entity (all writes to one id): Calyx ${m("calyx")} commands/s vs Fastify + SQLite ${m("fastify-sqlite")}${restate} (target ≥ ${num(TARGET_PER_SEC)}).`];
}

export default defineScenario<HotData>({
  headline,
  name: "hot-entity",
  description: "all writes to one entity id: commands/s (closed loop) and p99 at fixed rates",
  run,
  render,
});
