// Percentiles and run summaries for the benchmark reports.

export interface Pcts { n: number; p50: number; p90: number; p99: number; max: number; mean: number }

/** Nearest-rank percentile of a sorted array. */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(values: ArrayLike<number>): Pcts {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  return { n: s.length, p50: r2(pct(s, 50)), p90: r2(pct(s, 90)), p99: r2(pct(s, 99)), max: r2(s.length ? s[s.length - 1]! : NaN), mean: r2(s.length ? sum / s.length : NaN) };
}

export function r2(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : x;
}

/** Median with min and max of repeated runs (nulls skipped). */
export function medianOf(xs: Array<number | null | undefined>): { median: number | null; min: number | null; max: number | null; runs: number } {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: null, min: null, max: null, runs: 0 };
  const mid = v.length % 2 === 1 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return { median: r2(mid), min: r2(v[0]!), max: r2(v[v.length - 1]!), runs: v.length };
}

/** An empirical CDF reduced to at most `points` (value, fraction) pairs, for plotting. */
export function cdf(values: ArrayLike<number>, points = 200): Array<[number, number]> {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  if (s.length === 0) return [];
  const out: Array<[number, number]> = [];
  const step = Math.max(1, Math.floor(s.length / points));
  for (let i = 0; i < s.length; i += step) out.push([r2(s[i]!), (i + 1) / s.length]);
  out.push([r2(s[s.length - 1]!), 1]);
  return out;
}
