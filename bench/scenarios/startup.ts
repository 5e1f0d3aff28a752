// startup: time from spawn to the first served request, and memory, with an
// empty data folder and with many entities stored. The data folders are filled
// once (Calyx through its API, SQLite in one transaction) and the servers are
// then restarted on them `repeats` times.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineScenario } from "../lib/scenario.js";
import type { ScenarioResult, Session } from "../lib/session.js";
import { check, fmt, fmtRatio, num, ratio, spread, table } from "../lib/stats.js";
import { processRssKb } from "../lib/proc.js";
import { spawnTarget, TARGET_LABELS, TargetUnavailable, type Spawned, type TargetName } from "../lib/targets.js";

const ORDER: readonly TargetName[] = ["uws-hello", "fastify-sqlite", "calyx"];
/** Issue 8: first request served within this many ms with 1,000,000 entities. */
const TARGET_MS = 300;

export interface StartupRun {
  readonly target: TargetName;
  readonly entities: number;
  readonly repeat: number;
  /** spawn → "listening" line. */
  readonly listenMs: number;
  /** spawn → first response to GET /customers/c0. */
  readonly firstResponseMs: number;
  readonly status: number;
  readonly rssKb: number | null;
}

/**
 * Calyx's full capacity, from starts of their own (traced, so not counted
 * above): a server loads the project in fewer workers than it runs with when
 * the cores are few, listens, and the others join after (docs/host.md
 * "Start-up").
 */
export interface CapacityRun {
  readonly entities: number;
  /** spawn → first response of this (traced) start. */
  readonly firstResponseMs: number;
  /** spawn → every worker serving; null when one failed to join. */
  readonly allWorkersMs: number | null;
  readonly rssKb: number | null;
  /** Resident memory once every worker serves. */
  readonly rssAllKb: number | null;
}

export interface StartupData {
  readonly entityCounts: readonly number[];
  /** spawn → exit of `node -e 0`: the floor any Node server pays. */
  readonly nodeFloorMs: readonly number[];
  readonly fill: Record<string, { entities: number; ms: number; path: string }>;
  readonly runs: readonly StartupRun[];
  /** Absent in results from before it was measured. */
  readonly capacity?: readonly CapacityRun[];
}

function firstRequest(host: string, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The trace lines (CALYX_TRACE_STARTUP=1) that time the workers' join, in ms since the server process began. */
const LISTENING_TRACE = /^calyx: startup listening .* at ([\d.]+) ms$/m;
const ALL_WORKERS_TRACE = /^calyx: startup all \d+ workers? serving at ([\d.]+) ms$/m;
const JOIN_DEADLINE_MS = 10_000;

/**
 * Calyx: spawn → every worker serving, from its trace (the time from
 * "listening" to "all N workers serving", added to the spawn → "listening"
 * the bench measured; the same as listening when every worker loaded before
 * it); null when a worker failed to join.
 */
async function allWorkersServing(sp: Spawned): Promise<number | null> {
  const deadline = performance.now() + JOIN_DEADLINE_MS;
  for (;;) {
    const out = sp.output();
    const listening = LISTENING_TRACE.exec(out);
    const all = ALL_WORKERS_TRACE.exec(out);
    if (listening?.[1] !== undefined && all?.[1] !== undefined) return sp.listenMs + Number(all[1]) - Number(listening[1]);
    // A worker that failed to join (logged by the server) never prints it.
    if (performance.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function spawnFor(s: Session, name: TargetName, dataDir: string | undefined, env?: Record<string, string>): Promise<Spawned> {
  return spawnTarget(name, {
    customers: 0, ...(dataDir ? { dataDir } : {}), log: (l) => s.log(l), ...(s.options.calyx ? { calyx: s.options.calyx } : {}),
    ...(s.options.workers !== undefined ? { workers: s.options.workers } : {}), durability: s.options.durability, ...(env ? { env } : {}),
  });
}

async function startOnce(s: Session, name: TargetName, dataDir: string | undefined, entities: number, repeat: number): Promise<StartupRun> {
  let sp: Spawned | undefined;
  try {
    sp = await spawnFor(s, name, dataDir);
    const status = await firstRequest(sp.host, sp.port, "/customers/c0");
    const firstResponseMs = performance.now() - sp.spawnedAt;
    const rssKb = processRssKb(sp.pid) ?? null;
    return { target: name, entities, repeat, listenMs: sp.listenMs, firstResponseMs, status, rssKb };
  } finally {
    await sp?.stop();
  }
}

/** A Calyx start with CALYX_TRACE_STARTUP=1 (its trace times the join, and costs a little itself). */
async function capacityOnce(s: Session, dataDir: string | undefined, entities: number): Promise<CapacityRun> {
  let sp: Spawned | undefined;
  try {
    sp = await spawnFor(s, "calyx", dataDir, { CALYX_TRACE_STARTUP: "1" });
    await firstRequest(sp.host, sp.port, "/customers/c0");
    const firstResponseMs = performance.now() - sp.spawnedAt;
    const rssKb = processRssKb(sp.pid) ?? null;
    const allWorkersMs = await allWorkersServing(sp);
    return { entities, firstResponseMs, allWorkersMs, rssKb, rssAllKb: processRssKb(sp.pid) ?? null };
  } finally {
    await sp?.stop();
  }
}

async function run(s: Session): Promise<ScenarioResult<StartupData>> {
  const many = s.setting("entities", 20_000, 1_000_000);
  const entityCounts = [0, many];
  const nodeFloorMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    spawnSync(process.execPath, ["-e", "0"]);
    nodeFloorMs.push(performance.now() - t);
  }
  const fill: StartupData["fill"] = {};
  const runs: StartupRun[] = [];
  const capacity: CapacityRun[] = [];
  const dirs: string[] = [];
  try {
    for (const name of ORDER) {
      if (!s.wants(name)) continue;
      // The hello-world stores nothing: its start-up is the same with any data.
      for (const entities of name === "uws-hello" ? [0] : entityCounts) {
        let dataDir: string | undefined;
        if (name !== "uws-hello") {
          dataDir = mkdtempSync(join(tmpdir(), `calyx-bench-startup-${name}-`));
          dirs.push(dataDir);
        }
        if (entities > 0 && name !== "uws-hello" && dataDir !== undefined) {
          s.log(`  filling ${name} with ${num(entities)} customers…`);
          const t = await s.startTarget(name, { customers: entities, dataDir });
          if (t === undefined) break;
          fill[name] = { entities, ms: Math.round(t.preload.ms), path: t.preload.path };
          s.log(`    done in ${num(t.preload.ms / 1000)} s (${t.preload.path})`);
          await s.stopTarget(t);
        }
        for (let repeat = 0; repeat < s.options.repeats + 1; repeat++) {
          await s.waitForQuiet();
          try {
            const r = await startOnce(s, name, dataDir, entities, repeat);
            // The first start after filling warms the OS page cache like any later start would not: run it, keep it apart.
            if (repeat === 0 && entities > 0) {
              s.log(`  ${name} ${num(entities)} entities: first start (page cache warm-up, not counted) ${num(r.firstResponseMs)} ms`);
              continue;
            }
            runs.push(r);
            s.log(`  ${name} ${num(entities)} entities: listening ${num(r.listenMs)} ms, first response ${num(r.firstResponseMs)} ms (status ${r.status}), RSS ${num((r.rssKb ?? 0) / 1024)} MiB`);
          } catch (error) {
            s.unavailable[name] = error instanceof TargetUnavailable ? error.message : String(error);
            s.log(`  ${name} did not start: ${String(error).split("\n")[0] ?? ""}`);
            break;
          }
          if (entities === 0 && repeat === s.options.repeats - 1) break;
        }
        if (name !== "calyx" || s.unavailable[name] !== undefined) continue;
        for (let repeat = 0; repeat < s.options.repeats; repeat++) {
          await s.waitForQuiet();
          const c = await capacityOnce(s, dataDir, entities);
          capacity.push(c);
          s.log(`  calyx ${num(entities)} entities, traced start: first response ${num(c.firstResponseMs)} ms, all workers serving ${c.allWorkersMs === null ? "— (a worker failed to join)" : `${num(c.allWorkersMs)} ms`}, RSS ${num((c.rssKb ?? 0) / 1024)} → ${num((c.rssAllKb ?? 0) / 1024)} MiB`);
        }
      }
    }
  } finally {
    await s.stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  return s.save("startup", { entityCounts }, { entityCounts, nodeFloorMs, fill, runs, capacity }, render);
}

function render(r: ScenarioResult<StartupData>): string[] {
  const d = r.data;
  const out: string[] = [
    `Time from spawn() to the "listening" line and to the first response to GET /customers/c0 (a fresh connection), and resident memory after it; `
    + `median (min–max) over restarts on the same data folder (the first start after filling is not counted). Node itself (spawn → exit of \`node -e 0\`) takes ${fmt(spread(d.nodeFloorMs), " ms")}.`,
  ];
  const fills = Object.entries(d.fill).map(([t, f]) => `${t}: ${num(f.entities)} customers in ${num(f.ms / 1000)} s (${f.path === "api" ? "POSTs through the API" : f.path === "bulk" ? "one SQL transaction" : f.path})`);
  if (fills.length > 0) out.push("", `Filling — ${fills.join("; ")}.`);
  const rows: string[][] = [];
  for (const t of ORDER) {
    for (const e of d.entityCounts) {
      const rs = d.runs.filter((x) => x.target === t && x.entities === e);
      if (rs.length === 0) continue;
      rows.push([t, num(e), fmt(spread(rs.map((x) => x.listenMs))), fmt(spread(rs.map((x) => x.firstResponseMs))), [...new Set(rs.map((x) => x.status))].join(", "), fmt(spread(rs.map((x) => (x.rssKb ?? NaN) / 1024)))]);
    }
  }
  out.push("", ...table(["server", "entities", "listening (ms)", "first response (ms)", "status", "RSS (MiB)"], rows));
  const joined = d.capacity ?? [];
  if (joined.length > 0) {
    out.push("", "Calyx listens once its first workers have loaded (one on two cores) and starts the others then; they take their share of the entities when loaded. "
      + "Full capacity, from starts of their own with CALYX_TRACE_STARTUP=1 (which times the join and costs a little itself, so these starts are not counted above): "
      + "spawn → first response and → every worker serving (— when a worker failed to join), and the memory at each.");
    out.push("", ...table(["entities", "first response, traced (ms)", "all workers serving (ms)", "RSS at first response (MiB)", "RSS, all workers (MiB)"],
      d.entityCounts.flatMap((e) => {
        const rs = joined.filter((x) => x.entities === e);
        if (rs.length === 0) return [];
        const all = rs.flatMap((x) => (typeof x.allWorkersMs === "number" ? [x.allWorkersMs] : []));
        return [[num(e), fmt(spread(rs.map((x) => x.firstResponseMs))), all.length > 0 ? fmt(spread(all)) : "—",
          fmt(spread(rs.map((x) => (x.rssKb ?? NaN) / 1024))), fmt(spread(rs.map((x) => (x.rssAllKb ?? NaN) / 1024)))]];
      })));
  }
  const first = (t: TargetName, e: number): number[] => d.runs.filter((x) => x.target === t && x.entities === e).map((x) => x.firstResponseMs);
  out.push("", ...table(["entities", "Calyx ÷ Fastify + SQLite (first response)", "Calyx ÷ uWS hello-world (first response)"],
    d.entityCounts.map((e) => [num(e), fmtRatio(ratio(first("calyx", e), first("fastify-sqlite", e))), fmtRatio(ratio(first("calyx", e), first("uws-hello", 0)))])));
  const many = Math.max(...d.entityCounts);
  const calyx = d.runs.filter((x) => x.target === "calyx" && x.entities === many).map((x) => x.firstResponseMs);
  if (calyx.length > 0) {
    const med = spread(calyx)?.median;
    out.push("", ...table(["target", "measured", "status"], [[`Calyx first request < ${TARGET_MS} ms with ${num(many)} entities${many < 1_000_000 ? " (quick mode: the target is for 1,000,000)" : ""}`, fmt(spread(calyx), " ms"), check(med !== undefined ? med < TARGET_MS : undefined)]]));
  }
  for (const [t, why] of Object.entries(r.unavailable)) out.push("", `${TARGET_LABELS[t as TargetName] ?? t} was not measured: ${why.split("\n")[0] ?? ""}`);
  return out;
}

function headline(r: ScenarioResult<StartupData>): string[] {
  const many = Math.max(...r.data.entityCounts);
  const m = (t: TargetName, e: number): string => {
    const v = spread(r.data.runs.filter((x) => x.target === t && x.entities === e).map((x) => x.firstResponseMs));
    return v ? `${num(v.median)} ms` : "—";
  };
  return [`startup to first served request: Calyx ${m("calyx", 0)} empty, ${m("calyx", many)} with ${num(many)} entities (target < ${TARGET_MS} ms with 1,000,000); Fastify + SQLite ${m("fastify-sqlite", many)}.`];
}

export default defineScenario<StartupData>({
  headline,
  name: "startup",
  description: "time to first served request and RSS, empty and with many entities stored (1,000,000 in full mode)",
  run,
  render,
});
