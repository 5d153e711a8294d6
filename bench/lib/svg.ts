// A small SVG line-chart writer for the benchmark plots (no plotting package is installed):
// linear or log axes, several series, an optional shaded x-range (the fallback period).

export interface Series { name: string; color: string; points: Array<[number, number]>; dash?: boolean }

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  yLog?: boolean;
  shade?: { from: number; to: number; label: string };
  width?: number;
  height?: number;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (Math.abs(v) >= 1000 ? `${+(v / 1000).toPrecision(3)}k` : `${+v.toPrecision(3)}`);

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

function linTicks(lo: number, hi: number, n = 6): number[] {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 860;
  const H = o.height ?? 440;
  const m = { l: 70, r: 190, t: 40, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = o.series.flatMap((s) => s.points);
  const floorPos = (v: number, log?: boolean) => (log ? Math.max(v, 0.01) : v);
  const xs = all.map((p) => floorPos(p[0], o.xLog));
  const ys = all.map((p) => floorPos(p[1], o.yLog));
  let x0 = o.xMin ?? Math.min(...xs, o.shade?.from ?? Infinity);
  let x1 = o.xMax ?? Math.max(...xs, o.shade?.to ?? -Infinity);
  let y0 = o.yMin ?? Math.min(...ys);
  let y1 = o.yMax ?? Math.max(...ys);
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) { x0 = 0; x1 = 1; }
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) { y0 = 0; y1 = 1; }
  if (o.xLog) { x0 = Math.max(x0, 0.01); }
  if (o.yLog) { y0 = Math.max(y0, 0.01); }
  if (x1 <= x0) x1 = x0 * 2 || 1;
  if (y1 <= y0) y1 = y0 * 2 || 1;
  const sx = (v: number) => m.l + (o.xLog ? (Math.log10(Math.max(v, x0)) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (v - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => m.t + ph - (o.yLog ? (Math.log10(Math.max(v, y0)) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (v - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="22" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  if (o.shade) {
    const a = sx(Math.max(o.shade.from, x0));
    const b = sx(Math.min(o.shade.to, x1));
    parts.push(`<rect x="${a}" y="${m.t}" width="${Math.max(1, b - a)}" height="${ph}" fill="#f5c542" fill-opacity="0.25"/>`);
    parts.push(`<text x="${a + 4}" y="${m.t + 14}" fill="#8a6d00">${esc(o.shade.label)}</text>`);
  }
  for (const t of o.xLog ? logTicks(x0, x1) : linTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.t}" y2="${m.t + ph}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${sx(t)}" y="${m.t + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of o.yLog ? logTicks(y0, y1) : linTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (pts.length > 0) {
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(floorPos(p[0], o.xLog)).toFixed(1)},${sy(floorPos(p[1], o.yLog)).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dash ? ' stroke-dasharray="5,3"' : ''}/>`);
    }
    const ly = m.t + 10 + i * 18;
    parts.push(`<line x1="${m.l + pw + 12}" x2="${m.l + pw + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="5,3"' : ''}/>`);
    parts.push(`<text x="${m.l + pw + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
