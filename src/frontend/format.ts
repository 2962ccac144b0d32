// Tensor.toString in NumPy's style: `tensor([[1, 2],\n        [3, 4]], dtype=int32)`, summarized with
// '...' past 1000 elements; tracers print as `Tracer<f32[3,4]>`.
import type { Tensor } from './tensor.js';
import { tensorArg } from './args.js';

const THRESHOLD = 1000;
const EDGE = 3;

function formatNumber(v: number, dtype: string, decimals: number): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return decimals < 0 ? v.toExponential(4) : v.toFixed(decimals);
}

/**
 * Picks fixed decimals (the fewest, up to 4, that reproduce every shown value in its dtype) or
 * scientific notation (-1) for the whole tensor, so columns line up.
 */
function chooseDecimals(values: readonly number[], dtype: string): number {
  const same = dtype === 'float64' ? (a: number, b: number) => a === b : (a: number, b: number) => Math.fround(a) === b;
  const finite = values.filter(Number.isFinite);
  const abs = finite.map(Math.abs).filter((a) => a > 0);
  if (abs.length && (Math.max(...abs) >= 1e8 || Math.min(...abs) < 1e-4)) return -1;
  for (let d = 0; d <= 4; d++) if (finite.every((v) => same(Number(v.toFixed(d)), v))) return d;
  return 4;
}

/** Flat offsets of the elements shown (all, or EDGE per side of each long axis when summarizing). */
function shownIndices(n: number, summarize: boolean): number[] {
  return summarize && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
}

export function formatTensor(t: Tensor): string {
  tensorArg('formatTensor', t);
  if (t.isTraced) return `Tracer<${t.describe()}>`;
  if (t.isDisposed) return `tensor(<disposed>, ${t.describe()})`;
  const data = t.dataSync();
  const summarize = t.size > THRESHOLD;
  const strides: number[] = [];
  let acc = 1;
  for (let i = t.ndim - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= t.shape[i];
  }
  // Pass 1: which elements are shown (formatting widths depend only on those).
  const shown: number[] = [];
  const collect = (dim: number, offset: number): void => {
    if (dim === t.ndim) return void shown.push(offset);
    for (const i of shownIndices(t.shape[dim], summarize)) if (i >= 0) collect(dim + 1, offset + i * strides[dim]);
  };
  collect(0, 0);
  const isFloatType = t.dtype === 'float32' || t.dtype === 'float64';
  const decimals = isFloatType ? chooseDecimals(shown.map((o) => data[o]), t.dtype) : 0;
  const cell = (v: number) => {
    const s = formatNumber(v, t.dtype, decimals);
    return isFloatType && decimals === 0 && Number.isFinite(v) ? `${s}.` : s;
  };
  const width = Math.max(0, ...shown.map((o) => cell(data[o]).length));
  // Pass 2: nested brackets, one row per line, blank lines between blocks of 3-d and up.
  const indent = 'tensor('.length;
  const render = (dim: number, offset: number): string => {
    if (dim === t.ndim) return cell(data[offset]).padStart(width);
    const parts = shownIndices(t.shape[dim], summarize).map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim])));
    const sep = dim === t.ndim - 1 ? ', ' : ',' + '\n'.repeat(t.ndim - dim - 1) + ' '.repeat(indent + dim + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = render(0, 0);
  const suffix = t.dtype === 'float32' ? '' : `, dtype=${t.dtype}`;
  const device = t.device === 'cpu-ref' || t.device === 'wasm' ? '' : `, device=${t.device}`;
  const shapeNote = t.size === 0 ? `, shape=[${t.shape.join(',')}]` : '';
  return `tensor(${body}${shapeNote}${suffix}${device})`;
}
