// Figures over repeats (median with min–max), ratios, and Markdown tables.

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly (number | null | undefined)[]): Spread | undefined {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  return { median, min: v[0] as number, max: v[v.length - 1] as number, n: v.length };
}

/** Rounds for display: 3 significant digits, no exponent, thousands separated. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

/** "median (min–max)", or just the value when there was one repeat. */
export function fmt(s: Spread | undefined, unit = ""): string {
  if (s === undefined) return "—";
  if (s.n === 1 || s.min === s.max) return `${num(s.median)}${unit}`;
  return `${num(s.median)}${unit} (${num(s.min)}–${num(s.max)})`;
}

export function pct(x: number | null | undefined): string {
  return typeof x === "number" && Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "—";
}

/** a / b on medians, with the range of per-repeat ratios when repeats pair up. */
export function ratio(a: readonly number[], b: readonly number[]): Spread | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  if (a.length === b.length) return spread(a.map((x, i) => x / (b[i] as number)));
  const sa = spread(a);
  const sb = spread(b);
  return sa && sb ? { median: sa.median / sb.median, min: sa.median / sb.median, max: sa.median / sb.median, n: 1 } : undefined;
}

export function fmtRatio(r: Spread | undefined): string {
  if (r === undefined || !Number.isFinite(r.median) || r.median === 0) return "—";
  const f = (x: number): string => (x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));
  return r.n === 1 || r.min === r.max ? `${f(r.median)}×` : `${f(r.median)}× (${f(r.min)}–${f(r.max)})`;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const esc = (c: string): string => c.replace(/\|/g, "\\|");
  return [
    `| ${headers.map(esc).join(" | ")} |`,
    `|${headers.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ];
}

/** ✅ / ❌ / — for a target check. */
export function check(ok: boolean | undefined): string {
  return ok === undefined ? "—" : ok ? "met" : "NOT met";
}
