// A small SVG line chart (no dependencies): latency percentiles against
// offered load, one panel per operation kind, log-scale y axis, min–max
// whiskers over repeats, hollow markers where the server was saturated.

export interface Point {
  /** Index into the panel's x labels. */
  readonly x: number;
  readonly y: number;
  readonly yMin: number;
  readonly yMax: number;
  /** Saturated / lower bound: drawn hollow. */
  readonly hollow: boolean;
}

export interface Series {
  readonly label: string;
  readonly color: string;
  /** SVG stroke-dasharray ("" = solid). */
  readonly dash: string;
  readonly width: number;
  readonly points: readonly Point[];
}

export interface Panel {
  readonly title: string;
  readonly xLabels: readonly string[];
  readonly series: readonly Series[];
}

const W = 460;
const H = 340;
const M = { left: 58, right: 34, top: 34, bottom: 46 };

export const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

const tickLabel = (v: number): string => (v >= 1000 ? `${v / 1000}s` : v >= 1 ? `${v}` : `${v}`);

function panelSvg(p: Panel, ox: number, yLo: number, yHi: number): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const n = Math.max(1, p.xLabels.length - 1);
  const xOf = (i: number): number => ox + M.left + (p.xLabels.length === 1 ? pw / 2 : (i / n) * pw);
  const yOf = (v: number): number => M.top + ph - ((Math.log10(Math.max(v, yLo)) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${ox + M.left + pw / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  parts.push(`<rect x="${ox + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of logTicks(yLo, yHi)) {
    const y = yOf(t);
    parts.push(`<line x1="${ox + M.left}" x2="${ox + M.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${ox + M.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${tickLabel(t)}</text>`);
  }
  p.xLabels.forEach((l, i) => {
    parts.push(`<text x="${xOf(i)}" y="${M.top + ph + 18}" text-anchor="middle" font-size="11">${esc(l)}</text>`);
  });
  parts.push(`<text x="${ox + M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="12">offered load (requests/s)</text>`);
  parts.push(`<text transform="translate(${ox + 14},${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">latency (ms, log scale)</text>`);
  for (const s of p.series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} points="${pts.map((q) => `${xOf(q.x).toFixed(1)},${yOf(q.y).toFixed(1)}`).join(" ")}"/>`);
    for (const q of pts) {
      const x = xOf(q.x);
      if (q.yMax > q.yMin) parts.push(`<line x1="${x}" x2="${x}" y1="${yOf(q.yMin)}" y2="${yOf(q.yMax)}" stroke="${s.color}" stroke-width="1"/>`);
      parts.push(`<circle cx="${x.toFixed(1)}" cy="${yOf(q.y).toFixed(1)}" r="3.2" fill="${q.hollow ? "white" : s.color}" stroke="${s.color}" stroke-width="1.5"/>`);
    }
  }
  return parts.join("\n");
}

/** Panels side by side sharing one y scale and one legend. */
export function lineChart(panels: readonly Panel[], legend: readonly { label: string; color: string; dash: string }[], note: string): string {
  const ys = panels.flatMap((p) => p.series.flatMap((s) => s.points.flatMap((q) => [q.yMin, q.yMax, q.y]))).filter((v) => v > 0 && Number.isFinite(v));
  const yLo = 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...ys, 1))));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...ys, 10)));
  const width = W * panels.length;
  const legendH = 18 * Math.ceil(legend.length / 3) + 24;
  const height = H + legendH;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`];
  panels.forEach((p, i) => out.push(panelSvg(p, i * W, yLo, yHi)));
  legend.forEach((l, i) => {
    const col = i % 3;
    const row = Math.floor(i / 3);
    const x = 20 + col * (width / 3);
    const y = H + 8 + row * 18;
    out.push(`<line x1="${x}" x2="${x + 28}" y1="${y}" y2="${y}" stroke="${l.color}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ""}/>`);
    out.push(`<text x="${x + 34}" y="${y + 4}" font-size="11">${esc(l.label)}</text>`);
  });
  out.push(`<text x="20" y="${height - 6}" font-size="10" fill="#555">${esc(note)}</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}
