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
  readonly children?: readonly number[];
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
  /** Self time per function. */
  readonly top: readonly HotFunction[];
  /**
   * Self time charged to the nearest project function on the stack (src/ or
   * the user's project), so that time in native code, Node internals and
   * npm packages lands on the Calyx function that asked for it.
   */
  readonly byOwner: readonly HotFunction[];
  /** Self time per file / package. */
  readonly byFile: readonly HotFunction[];
  /** The call tree of the busy samples, for a flame graph (bench/lib/flamegraph.ts); absent in results older than it. */
  readonly flame?: FlameNode;
}

/**
 * One frame of the merged call tree: every stack through the same function
 * (source-mapped, so two bundle positions of one function are one frame)
 * under the same parent frames. `ms`: busy time of the samples under it.
 */
export interface FlameNode {
  readonly name: string;
  readonly ms: number;
  readonly children: readonly FlameNode[];
}

/** Frames below this share of the thread's busy time are left out of the flame tree (their time stays in the parent's width). */
export const FLAME_MIN_SHARE = 0.002;

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

/** Calyx's own code, or the user's project (the example or a bench project), by located name. */
export function isProjectFrame(where: string): boolean {
  return where.startsWith("src/") || where.startsWith("examples/") || where.startsWith("bench/projects/");
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
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const located = new Map<number, string>();
  const where = (id: number): string => {
    let w = located.get(id);
    if (w === undefined) {
      const frame = byId.get(id)?.callFrame;
      w = frame ? locate(frame) : "(unknown)";
      located.set(id, w);
    }
    return w;
  };
  const ownerOf = new Map<number, string>();
  const owner = (id: number): string => {
    let o = ownerOf.get(id);
    if (o !== undefined) return o;
    const chain: number[] = [];
    let cur: number | undefined = id;
    while (cur !== undefined && !ownerOf.has(cur) && !isProjectFrame(where(cur))) {
      chain.push(cur);
      cur = parent.get(cur);
    }
    // No project frame at all: name the callback the event loop entered (the child of "(root)").
    const entry = chain.length >= 2 ? (chain[chain.length - 2] as number) : id;
    o = cur === undefined ? `(no project frame) ${where(entry)}` : (ownerOf.get(cur) ?? where(cur));
    for (const c of chain) ownerOf.set(c, o);
    if (cur !== undefined) ownerOf.set(cur, ownerOf.get(cur) ?? o);
    return o;
  };
  const byWhere = new Map<string, number>();
  const byOwnerMap = new Map<string, number>();
  const byFileMap = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number): void => {
    m.set(k, (m.get(k) ?? 0) + us);
  };
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
    const w = where(id);
    add(byWhere, w, us);
    const special = frame.functionName === "(garbage collector)" || frame.functionName === "(program)";
    add(byOwnerMap, special ? w : owner(id), us);
    add(byFileMap, w.startsWith("(") ? w : w.includes(" (") ? (w.split(" (")[0] ?? w) : w.startsWith("node:") ? (w.split(" ")[0] ?? w) : (w.split(":")[0] ?? w), us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, n: number): HotFunction[] => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([w, us]) => ({ where: w, selfMs: Math.round(us / 100) / 10, share: busy > 0 ? us / busy : 0 }));
  const top = rank(byWhere, topN);
  const byOwner = rank(byOwnerMap, topN);
  const byFile = rank(byFileMap, Math.min(topN, 12));
  const flame = flameTree(p, self, where, FLAME_MIN_SHARE * busy);
  const ranWorker = [...byWhere.keys()].some((k) => k.includes("worker-main") || k.includes("entity-runner"));
  const wall = window ? Math.max(0, last - first) : p.endTime - p.startTime;
  return { file: basename(file), thread: ranWorker ? "worker" : "main", wallMs: Math.round(wall / 1000), busyMs: Math.round(busy / 1000), top, byOwner, byFile, flame };
}

/**
 * The call tree of the busy samples (`self`: µs per profile node, idle
 * excluded here), children of one frame merged by located name, frames under
 * `minUs` dropped. The root stands for the whole thread.
 */
function flameTree(p: CpuProfile, self: ReadonlyMap<number, number>, where: (id: number) => string, minUs: number): FlameNode {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const total = new Map<number, number>();
  const sum = (id: number): number => {
    const n = byId.get(id);
    if (n === undefined || n.callFrame.functionName === "(idle)") return 0;
    let t = self.get(id) ?? 0;
    for (const c of n.children ?? []) t += sum(c);
    total.set(id, t);
    return t;
  };
  const isChild = new Set(p.nodes.flatMap((n) => n.children ?? []));
  const root = p.nodes.find((n) => !isChild.has(n.id));
  if (root === undefined) return { name: "all", ms: 0, children: [] };
  const rootUs = sum(root.id);
  const merge = (ids: readonly number[], name: string, us: number): FlameNode => {
    const groups = new Map<string, { ids: number[]; us: number }>();
    for (const id of ids) {
      for (const c of byId.get(id)?.children ?? []) {
        const t = total.get(c) ?? 0;
        if (t <= 0) continue;
        const w = where(c);
        const g = groups.get(w);
        if (g) {
          g.ids.push(c);
          g.us += t;
        } else groups.set(w, { ids: [c], us: t });
      }
    }
    const children = [...groups.entries()].filter(([, g]) => g.us >= minUs).sort((a, b) => b[1].us - a[1].us).map(([w, g]) => merge(g.ids, w, g.us));
    return { name, ms: Math.round(us / 100) / 10, children };
  };
  return merge([root.id], "all", rootUs);
}

export function summarizeProfileDir(dir: string, topN = 20, window?: ProfileWindow): ThreadProfile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort().map((f) => summarizeProfile(join(dir, f), topN, window));
}

function rows(hs: readonly HotFunction[], n: number): string[] {
  return hs.slice(0, n).map((h) => `| ${(h.share * 100).toFixed(1)}% | ${h.selfMs.toFixed(0)} | \`${h.where}\` |`);
}

export function renderProfiles(profiles: readonly ThreadProfile[], topN = 15): string[] {
  const out: string[] = [];
  for (const p of profiles) {
    out.push("", `**${p.thread} thread** (${p.file}): ${(p.busyMs / 1000).toFixed(1)} s busy of ${(p.wallMs / 1000).toFixed(1)} s (${p.wallMs > 0 ? ((p.busyMs / p.wallMs) * 100).toFixed(0) : 0}% of a core)`, "",
      "Self time per function:", "", "| % of busy | ms | function |", "|---:|---:|---|", ...rows(p.top, topN), "",
      "Charged to the nearest project function on the stack (its native, Node and npm callees included):", "",
      "| % of busy | ms | function |", "|---:|---:|---|", ...rows(p.byOwner ?? [], topN), "",
      "Per file / package:", "", "| % of busy | ms | file |", "|---:|---:|---|", ...rows(p.byFile ?? [], 10));
  }
  return out;
}
