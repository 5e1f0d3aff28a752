// A flame graph as SVG (no dependencies), drawn icicle-style: the whole
// thread on top, each frame's callees below it, widths proportional to busy
// time. Hover a frame for its name, time and share (SVG <title>). Colours
// say whose code a frame is: Calyx's or the user's (src/, examples/,
// bench/projects/), an npm package, Node's internals, or V8 itself.
import { esc } from "./chart.js";
import { isProjectFrame, type FlameNode } from "./profile.js";

const WIDTH = 1200;
const ROW = 17;
const PAD = 10;
const TOP = 44;
const CHAR_W = 6.4; // 11 px monospace
const MIN_DRAW_PX = 0.5;

export interface FlameRect {
  readonly name: string;
  readonly ms: number;
  readonly depth: number;
  readonly x: number;
  readonly width: number;
}

/** Where each frame goes: x and width in pixels of the drawing area (0 … width), depth 0 = the whole thread. */
export function layoutFlame(root: FlameNode, width = WIDTH - 2 * PAD): FlameRect[] {
  const out: FlameRect[] = [];
  if (!(root.ms > 0)) return out;
  const scale = width / root.ms;
  const place = (n: FlameNode, depth: number, x: number): void => {
    const w = n.ms * scale;
    if (w < MIN_DRAW_PX) return;
    out.push({ name: n.name, ms: n.ms, depth, x, width: w });
    let cx = x;
    for (const c of n.children) {
      place(c, depth + 1, cx);
      cx += c.ms * scale;
    }
  };
  place(root, 0, 0);
  return out;
}

export type FrameKind = "project" | "package" | "node" | "v8" | "root";

export function frameKind(name: string, depth: number): FrameKind {
  if (depth === 0) return "root";
  if (isProjectFrame(name)) return "project";
  if (name.startsWith("node:")) return "node";
  if (name.startsWith("(")) return "v8";
  return "package";
}

// A stable shade per name within its kind's hue, so neighbours differ.
function colour(name: string, kind: FrameKind): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  const v = (h % 1000) / 1000;
  switch (kind) {
    case "root": return "rgb(200,200,200)";
    case "project": return `rgb(${235 + Math.round(v * 20)},${120 + Math.round(v * 70)},${40 + Math.round(v * 30)})`;
    case "package": return `rgb(${70 + Math.round(v * 50)},${150 + Math.round(v * 50)},${205 + Math.round(v * 40)})`;
    case "node": return `rgb(${120 + Math.round(v * 50)},${190 + Math.round(v * 40)},${120 + Math.round(v * 40)})`;
    case "v8": return `rgb(${190 + Math.round(v * 40)},${90 + Math.round(v * 40)},${90 + Math.round(v * 40)})`;
  }
}

/**
 * A frame's label with the function first, so that a narrow frame still
 * shows what runs: "src/storage/committer.ts:#apply" → "#apply committer.ts",
 * "lmdb (write.js):put" → "put lmdb/write.js", "node:internal/timers
 * processTimers" → "processTimers node:internal/timers".
 */
export function frameLabel(name: string, depth: number): string {
  if (depth === 0) return "all busy samples";
  if (name.startsWith("(")) return name;
  if (name.startsWith("node:")) {
    const sp = name.indexOf(" ");
    return sp < 0 ? name : `${name.slice(sp + 1)} ${name.slice(0, sp)}`;
  }
  const colon = name.lastIndexOf(":");
  if (colon < 0) return name;
  const fn = name.slice(colon + 1);
  let where = name.slice(0, colon);
  const pkg = /^(.*) \((.*)\)$/.exec(where);
  if (pkg) where = `${pkg[1]}/${pkg[2]}`;
  else where = where.slice(where.lastIndexOf("/") + 1);
  return `${fn} ${where}`;
}

function fit(text: string, px: number): string {
  const n = Math.floor((px - 6) / CHAR_W);
  if (n < 3) return "";
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

/** The SVG of one thread's flame tree; `title` names the thread and the run. */
export function flameGraphSvg(root: FlameNode, title: string, note: string): string {
  const rects = layoutFlame(root);
  const depth = rects.reduce((d, r) => Math.max(d, r.depth), 0);
  const height = TOP + (depth + 1) * ROW + 40;
  const total = root.ms;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-family="sans-serif" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${WIDTH / 2}" y="36" text-anchor="middle" font-family="sans-serif" font-size="11" fill="#555">${esc(`width = busy time (${(total / 1000).toFixed(2)} s in all); hover a frame for its time`)}</text>`,
  ];
  for (const r of rects) {
    const kind = frameKind(r.name, r.depth);
    const label = frameLabel(r.name, r.depth);
    const full = r.depth === 0 ? label : r.name;
    const x = PAD + r.x;
    const y = TOP + r.depth * ROW;
    const share = total > 0 ? (r.ms / total) * 100 : 0;
    out.push(
      `<g><title>${esc(`${full} — ${r.ms.toFixed(1)} ms, ${share.toFixed(1)}% of busy`)}</title>` +
        `<rect x="${x.toFixed(2)}" y="${y}" width="${r.width.toFixed(2)}" height="${ROW - 1}" fill="${colour(r.name, kind)}" data-kind="${kind}"/>` +
        (fit(label, r.width) === "" ? "" : `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 5}">${esc(fit(label, r.width))}</text>`) +
        `</g>`,
    );
  }
  const legend: [FrameKind, string][] = [["project", "Calyx / the service (src/, examples/)"], ["package", "npm package"], ["node", "Node internals"], ["v8", "V8 (GC, program, native)"]];
  const ly = height - 22;
  legend.forEach(([kind, text], i) => {
    const x = PAD + i * 270;
    out.push(`<rect x="${x}" y="${ly - 10}" width="14" height="12" fill="${colour("", kind)}"/>`, `<text x="${x + 20}" y="${ly}" font-family="sans-serif">${esc(text)}</text>`);
  });
  out.push(`<text x="${PAD}" y="${height - 4}" font-family="sans-serif" font-size="10" fill="#555">${esc(note)}</text>`, "</svg>");
  return out.join("\n") + "\n";
}
