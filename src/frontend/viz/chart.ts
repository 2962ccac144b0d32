// A line chart as SVG text (axes with round ticks, one polyline per series, points with tooltips,
// a legend): what the training dashboard draws each scalar with.
import { escapeXml } from './svg.js';

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  title: string;
  xLabel?: string;
  width?: number;
  height?: number;
  /** Log-scale y (learning rates); falls back to linear when a value is not positive. */
  logY?: boolean;
}

const PALETTE = ['#e76f51', '#2a9d8f', '#457b9d', '#f4a261', '#8ab17d', '#9b5de5', '#264653', '#d62828'];

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // Multiples of step (not a running sum, which drifts: 1 + 5 × 0.2 is 1.9999999999999998, and an
  // integer axis then loses its last tick).
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) {
    const v = Number((i * step).toPrecision(12));
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** log10 positions of 1, 2 and 5 times each power of ten inside [lo, hi] (both log10). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const t = e + Math.log10(m);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push(t);
    }
  }
  // Too many ticks over a wide range: keep the powers of ten.
  return out.length > 8 ? out.filter((t) => Number.isInteger(Math.round(t * 1e9) / 1e9)) : out;
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export function lineChart(series: readonly Series[], opts: ChartOptions): string {
  const W = opts.width ?? 520;
  const H = opts.height ?? 260;
  const m = { left: 56, right: 14, top: 28, bottom: 40 };
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const logY = !!opts.logY && pts.every(([, y]) => y > 0);
  const fy = (y: number) => (logY ? Math.log10(y) : y);
  let [x0, x1] = pts.length ? [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = pts.length ? [Math.min(...pts.map((p) => fy(p[1]))), Math.max(...pts.map((p) => fy(p[1])))] : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - (Math.abs(y0) || 1) * 0.1, y1 + (Math.abs(y1) || 1) * 0.1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (W - m.left - m.right);
  const sy = (y: number) => H - m.bottom - ((fy(y) - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const syRaw = (v: number) => H - m.bottom - ((v - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-title="${escapeXml(opts.title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="10">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${m.left}" y="16" font-size="13" font-weight="600">${escapeXml(opts.title)}</text>`,
  ];
  // Grid and ticks: on a log axis, 1-2-5 steps of each decade; epochs and steps get whole numbers.
  const yTicks = logY ? logTicks(y0, y1) : niceTicks(y0, y1);
  const integerX = pts.every(([x]) => Number.isInteger(x));
  // Epochs on a short run: every integer (round ticks between them would be filtered away).
  const xTicks = integerX && x1 - x0 <= 6 ? Array.from({ length: x1 - x0 + 1 }, (_, i) => x0 + i) : niceTicks(x0, x1, 6).filter((t) => !integerX || Number.isInteger(t));
  for (const t of yTicks) {
    const y = syRaw(t).toFixed(1);
    out.push(`<line class="grid" x1="${m.left}" x2="${W - m.right}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${y}" dy="3" text-anchor="end" fill="#666">${escapeXml(formatTick(logY ? 10 ** t : t))}</text>`);
  }
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${H - m.bottom}" y2="${H - m.bottom + 4}" stroke="#999"/>`);
    out.push(`<text x="${x}" y="${H - m.bottom + 15}" text-anchor="middle" fill="#666">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<line class="axis" x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="#999"/>`);
  out.push(`<line class="axis" x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="#999"/>`);
  if (opts.xLabel) out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 6}" text-anchor="middle" fill="#444">${escapeXml(opts.xLabel)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
    if (ok.length > 1) out.push(`<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="1.8" points="${ok.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of ok) {
      out.push(`<circle class="point" cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"><title>${escapeXml(`${s.name} @ ${formatTick(x)}: ${formatTick(y)}`)}</title></circle>`);
    }
    out.push(`<rect x="${W - m.right - 150}" y="${m.top + 4 + i * 14}" width="10" height="3" fill="${color}"/><text class="legend" x="${W - m.right - 136}" y="${m.top + 9 + i * 14}">${escapeXml(s.name)}</text>`);
  });
  if (!pts.length) out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#999">no finite values</text>`);
  out.push('</svg>');
  return out.join('\n');
}
