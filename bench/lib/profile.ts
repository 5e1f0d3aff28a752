// Summarises V8 CPU profiles (.cpuprofile, from node --cpu-prof) into the
// functions with the most self time, mapped back through the bundle's source
// map to src/<file>.ts:<function>, so the owners of a hot spot can find it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_DIR } from "./paths.js";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface HotFunction {
  /** src/host/worker-pool.ts:dispatch, node_modules/lmdb:…, (garbage collector), … */
  readonly where: string;
  readonly selfMs: number;
  /** Share of the thread's busy (non-idle) samples. */
  readonly share: number;
}

export interface ThreadProfile {
  readonly file: string;
  /** "main" or "worker" (guessed from the functions it ran). */
  readonly thread: string;
  readonly wallMs: number;
  readonly busyMs: number;
  readonly top: readonly HotFunction[];
}

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(path: string): SourceMap | null {
  let m = maps.get(path);
  if (m === undefined) {
    m = null;
    try {
      if (existsSync(`${path}.map`)) m = new SourceMap(JSON.parse(readFileSync(`${path}.map`, "utf8")) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      m = null;
    }
    maps.set(path, m);
  }
  return m;
}

function shorten(path: string): string {
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = path.slice(nm + "node_modules/".length).split("/");
    const pkg = rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? "");
    return `${pkg} (${rest[rest.length - 1] ?? ""})`;
  }
  const r = relative(REPO_DIR, path);
  return r.startsWith("..") ? path : r;
}

/** file:function for a frame, through the source map when there is one. */
function locate(frame: CallFrame): string {
  const fn = frame.functionName || "(anonymous)";
  if (frame.url === "") return fn.startsWith("(") ? fn : `(native) ${fn}`;
  let path = frame.url;
  if (path.startsWith("file://")) {
    try {
      path = fileURLToPath(path);
    } catch {
      /* keep the URL */
    }
  }
  if (path.startsWith("node:")) return `${path} ${fn}`;
  const map = sourceMapFor(path);
  if (map) {
    const e = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e.originalSource) {
      let src = e.originalSource;
      if (src.startsWith("file://")) src = fileURLToPath(src);
      else src = join(path, "..", src);
      return `${shorten(src)}:${fn}`;
    }
  }
  return `${shorten(path)}:${fn}`;
}

/** A span of CLOCK_MONOTONIC time in µs (process.hrtime.bigint() / 1000, the profiles' clock). */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function summarizeProfile(file: string, topN = 20, window?: ProfileWindow): ThreadProfile {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
    const id = p.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const byWhere = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += us;
    if (frame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    const w = locate(frame);
    byWhere.set(w, (byWhere.get(w) ?? 0) + us);
  }
  const busy = total - idle;
  const top = [...byWhere.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN)
    .map(([where, us]) => ({ where, selfMs: Math.round(us / 100) / 10, share: busy > 0 ? us / busy : 0 }));
  const ranWorker = [...byWhere.keys()].some((k) => k.includes("worker-main") || k.includes("entity-runner"));
  const wall = window ? Math.max(0, last - first) : p.endTime - p.startTime;
  return { file: basename(file), thread: ranWorker ? "worker" : "main", wallMs: Math.round(wall / 1000), busyMs: Math.round(busy / 1000), top };
}

export function summarizeProfileDir(dir: string, topN = 20, window?: ProfileWindow): ThreadProfile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort().map((f) => summarizeProfile(join(dir, f), topN, window));
}

export function renderProfiles(profiles: readonly ThreadProfile[]): string[] {
  const out: string[] = [];
  for (const p of profiles) {
    out.push("", `${p.thread} thread (${p.file}): ${(p.busyMs / 1000).toFixed(1)} s busy of ${(p.wallMs / 1000).toFixed(1)} s (${p.wallMs > 0 ? ((p.busyMs / p.wallMs) * 100).toFixed(0) : 0}% of a core)`, "",
      "| self % of busy | self ms | function |", "|---:|---:|---|",
      ...p.top.map((h) => `| ${(h.share * 100).toFixed(1)}% | ${h.selfMs.toFixed(0)} | \`${h.where}\` |`));
  }
  return out;
}
