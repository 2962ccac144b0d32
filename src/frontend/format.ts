// Tensor.toString in NumPy's style: `tensor([[1, 2],\n        [3, 4]], dtype=int32)`, summarized with
// '...' past 1000 elements; tracers print as `Tracer<f32[3,4]>`.
import type { Tensor } from './tensor.js';
import { SHORT_NAME } from '../ir/dtype.js';

const THRESHOLD = 1000;
const EDGE = 3;

function formatNumber(v: number, dtype: string, decimals: number): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return decimals < 0 ? v.toExponential(4) : v.toFixed(decimals);
}

/** Picks fixed decimals (up to 4, trailing zeros trimmed together) or scientific notation for the whole tensor. */
function chooseDecimals(values: ArrayLike<number>): number {
  let maxAbs = 0;
  let minAbs = Infinity;
  let allInt = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const a = Math.abs(v);
    maxAbs = Math.max(maxAbs, a);
    if (a > 0) minAbs = Math.min(minAbs, a);
    if (!Number.isInteger(v)) allInt = false;
  }
  if (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity)) return -1;
  if (allInt) return 0;
  for (let d = 1; d <= 4; d++) {
    let exact = true;
    for (let i = 0; i < values.length && exact; i++) if (Number.isFinite(values[i]) && Math.abs(Number(values[i].toFixed(d)) - values[i]) > 1e-9 * Math.max(1, Math.abs(values[i]))) exact = false;
    if (exact) return d;
  }
  return 4;
}

export function formatTensor(t: Tensor): string {
  if (t.isTraced) return `Tracer<${t.describe()}>`;
  if (t.isDisposed) return `tensor(<disposed>, ${t.describe()})`;
  const data = t.dataSync();
  const summarize = t.size > THRESHOLD;
  const decimals = t.dtype === 'float32' || t.dtype === 'float64' ? chooseDecimals(data) : 0;
  const cells: string[] = Array.from(data, (v) => {
    const s = formatNumber(v, t.dtype, decimals);
    return t.dtype.startsWith('float') && decimals === 0 && Number.isFinite(v) ? `${s}.` : s;
  });
  const width = Math.max(0, ...cells.map((c) => c.length));
  const strides: number[] = [];
  let acc = 1;
  for (let i = t.ndim - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= t.shape[i];
  }
  const indent = 'tensor('.length;
  const render = (dim: number, offset: number): string => {
    if (dim === t.ndim) return cells[offset].padStart(width);
    const n = t.shape[dim];
    const idx = summarize && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
    const parts = idx.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim])));
    const sep = dim === t.ndim - 1 ? ', ' : ',' + '\n'.repeat(t.ndim - dim - 1) + ' '.repeat(indent + dim + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = render(0, 0);
  const suffix = t.dtype === 'float32' ? '' : `, dtype=${t.dtype}`;
  const device = t.device === 'cpu-ref' || t.device === 'wasm' ? '' : `, device=${t.device}`;
  const shapeNote = t.size === 0 ? `, shape=[${t.shape.join(',')}]` : '';
  return `tensor(${body}${shapeNote}${suffix}${device})`;
}

export { SHORT_NAME };
