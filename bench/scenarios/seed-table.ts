// seed-table: the customer service under the seed's mix — 75% reads (half GET
// by id, half the by-name view query), 25% writes (POST) — at fixed offered
// rates, open loop, with the customers preloaded. Calyx and the baselines run
// the same schedule, interleaved step by step, in the same session.
import { lineChart, type Panel } from "../lib/chart.js";
import type { StepResult } from "../lib/generator.js";
import { defineScenario } from "../lib/scenario.js";
import type { ScenarioResult, Session } from "../lib/session.js";
import { cacheCounters, commitCounters, commitLine, commitSummary, hitShare, upTo, type CommitSummary } from "../lib/calyx-metrics.js";
import { check, fmt, fmtRatio, num, pct, ratio, spread, table } from "../lib/stats.js";
import { TARGET_LABELS, type TargetName } from "../lib/targets.js";
import { seedMix } from "../lib/workload.js";

export interface SeedStep {
  readonly target: TargetName;
  readonly rate: number;
  readonly repeat: number;
  readonly step: StepResult;
  /** Calyx: share of its by-name queries answered from the query cache (warm-up and drain included). */
  readonly queryCacheHits?: number | undefined;
  /** Calyx: share of its reads by id answered from the reply cache (warm-up and drain included). */
  readonly replyCacheHits?: number | undefined;
  /** Calyx: its committer over the step (warm-up and drain included). */
  readonly commits?: CommitSummary | undefined;
}

export interface SeedData {
  readonly customers: number;
  readonly rates: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly preload: Record<string, { customers: number; ms: number; path: string }>;
  readonly steps: readonly SeedStep[];
}

/** The product page's p99 claims (reads / writes, ms) at these rates. */
export const PRODUCT_PAGE: Record<number, { reads: number; writes: number }> = {
  1000: { reads: 6, writes: 8 },
  8000: { reads: 7, writes: 16 },
  15000: { reads: 12, writes: 20 },
};

export const SEED_GROUPS = { reads: ["read-id", "read-name"] } as const;
const ORDER: readonly TargetName[] = ["uws-hello", "fastify-sqlite", "calyx"];

export function stepLine(label: string, s: StepResult): string {
  const reads = s.groups["reads"];
  const w = s.classes.find((c) => c.name === "write")?.latency;
  const parts = [
    `${label}: ${num(s.achievedRate)}/s`,
    reads ? `reads p50 ${num(reads.p50)} p99 ${num(reads.p99)} p999 ${num(reads.p999)} ms` : "",
    w ? `writes p50 ${num(w.p50)} p99 ${num(w.p99)} p999 ${num(w.p999)} ms` : "",
    `cpu server ${pct(s.serverCpu)} (main thread ${pct(s.serverMainCpu)}) gen ${pct(s.generatorCpu)} other ${pct(s.foreignCpu)}`,
    s.verdict === "ok" ? "" : `[${s.verdict}]`,
  ];
  return parts.filter((p) => p !== "").join("  ");
}

async function run(s: Session): Promise<ScenarioResult<SeedData>> {
  const customers = s.setting("customers", 20_000, 100_000);
  const rates = s.listSetting("rates", [1_000, 8_000, 15_000], [1_000, 8_000, 15_000]);
  const warmupMs = s.setting("warmupMs", 500, 5_000);
  const durationMs = s.setting("durationMs", 2_000, 20_000);
  const targets = await s.startTargets(ORDER, { customers });
  const steps: SeedStep[] = [];
  try {
    for (let repeat = 0; repeat < s.options.repeats; repeat++) {
      for (const rate of rates) {
        for (const t of targets) {
          await s.waitForQuiet();
          const calyx = t.name === "calyx";
          const queryBefore = calyx ? await cacheCounters(t.host, t.port, "query") : undefined;
          const replyBefore = calyx ? await cacheCounters(t.host, t.port, "reply") : undefined;
          const commitsBefore = calyx ? await commitCounters(t.host, t.port) : undefined;
          const stepStarted = performance.now();
          const step = await s.generator.run({
            kind: "open", host: t.host, port: t.port, serverPids: s.pidsFor(t), seed: 1000 + repeat * 31 + rate,
            workload: { ops: seedMix(), dataset: { customers } }, rate, warmupMs, durationMs,
            drainMs: 2_000, connections: s.options.connections, abortBacklogMs: 2_000,
          }, SEED_GROUPS);
          const queryCacheHits = hitShare(queryBefore, calyx ? await cacheCounters(t.host, t.port, "query") : undefined);
          const replyCacheHits = hitShare(replyBefore, calyx ? await cacheCounters(t.host, t.port, "reply") : undefined);
          const commits = commitSummary(commitsBefore, calyx ? await commitCounters(t.host, t.port) : undefined, performance.now() - stepStarted);
          steps.push({ target: t.name, rate, repeat, step, queryCacheHits, replyCacheHits, commits });
          s.log(`  ${stepLine(`${t.name} @ ${num(rate)}/s`, step)}${calyx ? `  cache hits: by id ${pct(replyCacheHits)}, by name ${pct(queryCacheHits)}` : ""}${commits ? `  ${commitLine(commits)}` : ""}`);
          for (const n of step.notes) s.log(`      note: ${n}`);
        }
      }
    }
  } finally {
    await s.stopAll();
  }
  const preload = Object.fromEntries(targets.map((t) => [t.name, { customers: t.preload.customers, ms: Math.round(t.preload.ms), path: t.preload.path }]));
  const data: SeedData = { customers, rates, warmupMs, durationMs, preload, steps };
  return s.save("seed-table", { customers, rates, warmupMs, durationMs, mix: seedMix() }, data, render);
}

export function seedSteps(d: SeedData, target: TargetName, rate: number): StepResult[] {
  return d.steps.filter((x) => x.target === target && x.rate === rate).map((x) => x.step);
}

const readP = (k: "p50" | "p99" | "p999") => (s: StepResult): number | undefined => s.groups["reads"]?.[k];
const writeP = (k: "p50" | "p99" | "p999") => (s: StepResult): number | undefined => s.classes.find((c) => c.name === "write")?.latency[k];

function render(r: ScenarioResult<SeedData>): string[] {
  const d = r.data;
  const present = ORDER.filter((t) => d.steps.some((x) => x.target === t));
  const out: string[] = [];
  out.push(`Open loop, evenly spaced arrivals, latency from each request's intended send time; ${num(d.customers)} customers preloaded; `
    + `warm-up ${d.warmupMs / 1000} s excluded, ${d.durationMs / 1000} s measured per step; figures are median (min–max) over repeats, ms.`);
  const pre = Object.entries(d.preload).filter(([, p]) => p.path !== "none")
    .map(([t, p]) => `${t}: ${p.path === "api" ? `${num(p.customers)} POSTs through the API in ${num(p.ms / 1000)} s (${num((p.customers * 1000) / Math.max(1, p.ms))}/s, 64 connections)` : p.path === "bulk" ? `one SQL transaction at start-up in ${num(p.ms)} ms` : p.path}`);
  if (pre.length > 0) out.push("", `Preload — ${pre.join("; ")}.`);
  const rows: string[][] = [];
  for (const rate of d.rates) {
    for (const t of present) {
      const st = seedSteps(d, t, rate);
      const v = (f: (s: StepResult) => number | null | undefined) => spread(st.map(f));
      const verdicts = [...new Set(st.map((x) => x.verdict))].join(", ");
      rows.push([
        `${num(rate)}/s`, t, fmt(v((x) => x.achievedRate)),
        fmt(v(readP("p50"))), fmt(v(readP("p99"))), fmt(v(readP("p999"))),
        fmt(v(writeP("p50"))), fmt(v(writeP("p99"))), fmt(v(writeP("p999"))),
        pct(spread(st.map((x) => x.serverCpu))?.median), pct(spread(st.map((x) => x.serverMainCpu))?.median), pct(spread(st.map((x) => x.generatorCpu))?.median),
        fmt(v((x) => x.genLag.p99)), verdicts,
      ]);
    }
  }
  out.push("", ...table(["offered", "server", "achieved/s", "reads p50", "reads p99", "reads p999", "writes p50", "writes p99", "writes p999", "server CPU", "main thread", "gen CPU", "gen lag p99", "verdict"], rows));
  const share = (rate: number, f: (x: SeedStep) => number | undefined) => spread(d.steps.filter((x) => x.target === "calyx" && x.rate === rate).map((x) => { const v = f(x); return v === undefined ? undefined : v * 100; }));
  if (d.steps.some((x) => x.queryCacheHits !== undefined || x.replyCacheHits !== undefined)) {
    out.push("", `Calyx's reads answered from its caches (docs/host.md "Reply cache" and "Query result cache"; each write invalidates its customer and the two names it moves), by id / by name: `
      + `${d.rates.map((rate) => `${num(rate)}/s ${fmt(share(rate, (x) => x.replyCacheHits), "%")} / ${fmt(share(rate, (x) => x.queryCacheHits), "%")}`).join(", ")}.`);
  }
  const commitRows = d.rates.flatMap((rate) => {
    const cs = d.steps.filter((x) => x.target === "calyx" && x.rate === rate).map((x) => x.commits).filter((c): c is CommitSummary => c !== undefined);
    if (cs.length === 0) return [];
    const v = (f: (c: CommitSummary) => number) => spread(cs.map(f).filter((x) => Number.isFinite(x)));
    const bound = (f: (c: CommitSummary) => number) => cs.map((c) => upTo(f(c))).join(", ");
    return [[`${num(rate)}/s`, fmt(v((c) => c.perSecond)), fmt(v((c) => c.writesPerCommit)), bound((c) => c.p50Ms), bound((c) => c.p99Ms), bound((c) => c.syncP99Ms), fmt(v((c) => c.applyUsPerWrite))]];
  });
  if (commitRows.length > 0) {
    out.push("", "Calyx's group commit over each step (its /_calyx/metrics, warm-up and drain included): batches per second, writes per batch, a batch's time from asking for the write transaction to durable — "
      + "as the bucket bounds of its histogram, one figure per repeat — the part of it after the writes were applied (LMDB's page writes and fsync, on lmdb-js's write thread), and the main thread's time applying each write inside the transaction.",
    "", ...table(["offered", "commits/s", "writes per commit", "commit p50 ms", "commit p99 ms", "sync p99 ms", "apply µs/write"], commitRows));
  }
  out.push("", "CPU is a share of one core (2 cores in all); 'server CPU' counts all the server's threads, 'main thread' the one running its event loop (HTTP; in Calyx also routing and the committer, with user code and view queries in worker threads): near 100% it is the limit whatever the other core does. 'gen lag' is how late the generator itself dispatched requests (its share of every latency).");

  const ratioRows: string[][] = [];
  for (const rate of d.rates) {
    const c = seedSteps(d, "calyx", rate);
    if (c.length === 0) continue;
    const u = seedSteps(d, "uws-hello", rate);
    const f = seedSteps(d, "fastify-sqlite", rate);
    const vals = (st: StepResult[], g: (s: StepResult) => number | undefined): number[] => st.map(g).filter((x): x is number => x !== undefined);
    ratioRows.push([
      `${num(rate)}/s`,
      fmtRatio(ratio(vals(c, readP("p99")), vals(u, readP("p99")))), fmtRatio(ratio(vals(c, writeP("p99")), vals(u, writeP("p99")))),
      fmtRatio(ratio(vals(c, readP("p99")), vals(f, readP("p99")))), fmtRatio(ratio(vals(c, writeP("p99")), vals(f, writeP("p99")))),
      PRODUCT_PAGE[rate] ? `${PRODUCT_PAGE[rate].reads} / ${PRODUCT_PAGE[rate].writes}` : "—",
    ]);
  }
  if (ratioRows.length > 0) {
    out.push("", "p99 ratios (lower is better for Calyx):", "", ...table(["offered", "Calyx / uWS reads", "Calyx / uWS writes", "Calyx / Fastify reads", "Calyx / Fastify writes", "product page p99 reads / writes (ms)"], ratioRows));
  }
  const top = Math.max(...d.rates);
  const c = seedSteps(d, "calyx", top);
  const u = seedSteps(d, "uws-hello", top);
  if (c.length > 0) {
    const med = (st: StepResult[], g: (s: StepResult) => number | undefined): number | undefined => spread(st.map(g))?.median;
    const cr = med(c, readP("p99"));
    const cw = med(c, writeP("p99"));
    const ur = med(u, readP("p99"));
    const uw = med(u, writeP("p99"));
    const page = PRODUCT_PAGE[top];
    out.push("", `Targets at ${num(top)}/s (issue 8):`, "", ...table(["target", "measured", "status"], [
      ["reads p99 ≤ 1.5 × uWS hello-world reads p99", cr !== undefined && ur !== undefined ? `${num(cr)} vs ${num(1.5 * ur)} ms` : "—", check(cr !== undefined && ur !== undefined ? cr <= 1.5 * ur : undefined)],
      ["writes p99 ≤ 1.5 × uWS hello-world writes p99", cw !== undefined && uw !== undefined ? `${num(cw)} vs ${num(1.5 * uw)} ms` : "—", check(cw !== undefined && uw !== undefined ? cw <= 1.5 * uw : undefined)],
      [`reads p99 < ${page?.reads ?? 12} ms (product page)`, cr !== undefined ? `${num(cr)} ms` : "—", check(cr !== undefined && page ? cr < page.reads : undefined)],
      [`writes p99 < ${page?.writes ?? 20} ms (product page)`, cw !== undefined ? `${num(cw)} ms` : "—", check(cw !== undefined && page ? cw < page.writes : undefined)],
    ]));
  }
  for (const [t, why] of Object.entries(r.unavailable)) out.push("", `${TARGET_LABELS[t as TargetName] ?? t} was not measured: ${why.split("\n")[0] ?? ""}`);
  out.push("", "Restate is not in this table: it has no views, so nothing answers the mix's by-name queries; it is measured in max (writes, reads by id) and hot-entity.");
  return out;
}

const COLORS: Record<TargetName, string> = { calyx: "#d62728", "fastify-sqlite": "#1f77b4", "uws-hello": "#7f7f7f", restate: "#2ca02c" };
const DASHES = { p50: "2,3", p99: "", p999: "7,4" } as const;

function charts(r: ScenarioResult<SeedData>): Record<string, string> {
  const d = r.data;
  const present = ORDER.filter((t) => d.steps.some((x) => x.target === t));
  const panel = (title: string, get: (k: "p50" | "p99" | "p999") => (s: StepResult) => number | undefined): Panel => ({
    title, xLabels: d.rates.map(num),
    series: present.flatMap((t) => (["p50", "p99", "p999"] as const).map((k) => ({
      label: `${t} ${k}`, color: COLORS[t], dash: DASHES[k], width: k === "p99" ? 2.2 : 1.3,
      points: d.rates.flatMap((rate, x) => {
        const st = seedSteps(d, t, rate);
        const v = spread(st.map(get(k)));
        return v ? [{ x, y: v.median, yMin: v.min, yMax: v.max, hollow: st.some((q) => q.verdict === "server-saturated") }] : [];
      }),
    }))),
  });
  const legend = [
    ...present.map((t) => ({ label: TARGET_LABELS[t], color: COLORS[t], dash: "" })),
    ...(["p50", "p99", "p999"] as const).map((k) => ({ label: k, color: "#333", dash: DASHES[k] })),
  ];
  const note = `${r.mode} run ${r.run.date.slice(0, 10)}, commit ${r.run.commit}; open loop, latency from intended send time; hollow = saturated (lower bound); bars = min–max over repeats`;
  return { "seed-table.svg": lineChart([panel("reads (by id + by name)", readP), panel("writes (POST, fsync'd)", writeP)], legend, note) };
}

function headline(r: ScenarioResult<SeedData>): string[] {
  const d = r.data;
  const top = Math.max(...d.rates);
  const med = (t: TargetName, g: (s: StepResult) => number | undefined): string => {
    const v = spread(seedSteps(d, t, top).map(g));
    const sat = seedSteps(d, t, top).some((x) => x.verdict === "server-saturated");
    return v ? `${sat ? "saturated, ≥ " : ""}${num(v.median)} ms` : "—";
  };
  return [`seed-table at ${num(top)} req/s (75% reads / 25% fsync'd writes): p99 reads / writes — Calyx ${med("calyx", readP("p99"))} / ${med("calyx", writeP("p99"))}; `
    + `uWS hello-world ${med("uws-hello", readP("p99"))} / ${med("uws-hello", writeP("p99"))}; Fastify + SQLite ${med("fastify-sqlite", readP("p99"))} / ${med("fastify-sqlite", writeP("p99"))}.`];
}

export default defineScenario<SeedData>({
  name: "seed-table",
  description: "customer service, 75% reads / 25% writes, open loop at 1k / 8k / 15k req/s, Calyx vs baselines",
  run,
  render,
  headline,
  charts,
});
