// Reference semantics of the data-movement primitives (reshape, broadcast, transpose, slice, pad,
// concat, flip) and of gather/scatter_add, as strided copies between typed arrays.
import type { HostArray } from './array.js';
import type { TypedArray } from './dtype.js';
import { fail } from './error.js';
import type { AttrMap } from './ops.js';
import { sizeOf, stridesOf } from './shape.js';
import { castScalar } from './interpret_scalar.js';

/**
 * Walks every index of `shape` except the last and calls `row(a, b)` with the element offsets of
 * two arrays (offset + sum idx*stride); the callback loops over the last dim itself, so the cost of
 * the odometer is paid once per row instead of once per element. Rank 0 gives one call.
 */
export function forEachRow(
  shape: readonly number[],
  aOffset: number, aStrides: readonly number[],
  bOffset: number, bStrides: readonly number[],
  row: (a: number, b: number) => void,
): void {
  const r = shape.length;
  if (sizeOf(shape) === 0) return;
  const outer = r - 1;
  let rows = 1;
  for (let d = 0; d < outer; d++) rows *= shape[d];
  const idx = new Array<number>(Math.max(outer, 0)).fill(0);
  let a = aOffset;
  let b = bOffset;
  for (let k = 0; k < rows; k++) {
    row(a, b);
    for (let d = outer - 1; d >= 0; d--) {
      idx[d]++;
      a += aStrides[d];
      b += bStrides[d];
      if (idx[d] < shape[d]) break;
      a -= aStrides[d] * shape[d];
      b -= bStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** dst[dOff + idx.dStrides] = src[sOff + idx.sStrides] for every idx of `shape` (any array types). */
export function copyStrided(
  shape: readonly number[],
  dst: TypedArray, dOffset: number, dStrides: readonly number[],
  src: TypedArray, sOffset: number, sStrides: readonly number[],
): void {
  const r = shape.length;
  const n = r === 0 ? 1 : shape[r - 1];
  const ds = r === 0 ? 0 : dStrides[r - 1];
  const ss = r === 0 ? 0 : sStrides[r - 1];
  forEachRow(shape, dOffset, dStrides, sOffset, sStrides, (a, b) => {
    for (let i = 0; i < n; i++) dst[a + i * ds] = src[b + i * ss];
  });
}

/** Copies `src` (strided view of shape `shape`) into the fresh contiguous `out`. */
function gatherView(out: HostArray, src: HostArray, offset: number, strides: readonly number[]): HostArray {
  copyStrided(out.shape, out.data, 0, stridesOf(out.shape), src.data, offset, strides);
  return out;
}

export function reshape(x: HostArray, out: HostArray): HostArray {
  out.data.set(x.data);
  return out;
}

export function broadcast(x: HostArray, { dims }: AttrMap['broadcast'], out: HostArray): HostArray {
  const xs = stridesOf(x.shape);
  const strides = new Array<number>(out.shape.length).fill(0);
  // A size-1 operand dim is repeated: stride 0, like an output dim the operand does not have.
  dims.forEach((d, i) => (strides[d] = x.shape[i] === 1 ? 0 : xs[i]));
  return gatherView(out, x, 0, strides);
}

export function transpose(x: HostArray, { perm }: AttrMap['transpose'], out: HostArray): HostArray {
  const xs = stridesOf(x.shape);
  return gatherView(out, x, 0, perm.map((p) => xs[p]));
}

export function slice(x: HostArray, { start, stride }: AttrMap['slice'], out: HostArray): HostArray {
  const xs = stridesOf(x.shape);
  const offset = start.reduce((s, v, i) => s + v * xs[i], 0);
  return gatherView(out, x, offset, stride.map((s, i) => s * xs[i]));
}

export function flip(x: HostArray, { axes }: AttrMap['flip'], out: HostArray): HostArray {
  const xs = stridesOf(x.shape);
  let offset = 0;
  const strides = xs.map((s, i) => {
    if (!axes.includes(i)) return s;
    offset += (x.shape[i] - 1) * s;
    return -s;
  });
  return gatherView(out, x, offset, strides);
}

/**
 * Fills with `value`, then writes x[i] to low + i*(interior+1) on each dim, skipping positions that
 * negative low/high padding crops away (XLA pad).
 */
export function pad(x: HostArray, { low, interior, value }: AttrMap['pad'], out: HostArray): HostArray {
  out.data.fill(castScalar(value, out.dtype));
  const xs = stridesOf(x.shape);
  const os = stridesOf(out.shape);
  const box: number[] = [];
  let xOffset = 0;
  let outOffset = 0;
  const outStrides: number[] = [];
  for (let d = 0; d < x.shape.length; d++) {
    const step = interior[d] + 1;
    // First and one-past-last input index whose output position lies in [0, out.shape[d]).
    const first = low[d] >= 0 ? 0 : Math.ceil(-low[d] / step);
    const end = Math.min(x.shape[d], Math.floor((out.shape[d] - 1 - low[d]) / step) + 1);
    box.push(Math.max(0, end - first));
    xOffset += first * xs[d];
    outOffset += (low[d] + first * step) * os[d];
    outStrides.push(step * os[d]);
  }
  copyStrided(box, out.data, outOffset, outStrides, x.data, xOffset, xs);
  return out;
}

export function concat(xs: HostArray[], { axis }: AttrMap['concat'], out: HostArray): HostArray {
  const os = stridesOf(out.shape);
  let at = 0;
  for (const x of xs) {
    copyStrided(x.shape, out.data, at * os[axis], os, x.data, 0, stridesOf(x.shape));
    at += x.shape[axis];
  }
  return out;
}

/** x viewed as [outer, n, inner] around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

function checkIndices(op: string, idx: HostArray, axis: number, n: number): void {
  for (const k of idx.data) {
    if (k < 0 || k >= n) fail(op, `index ${k} is out of range for axis ${axis} of size ${n}`);
  }
}

/** numpy take: out[a..., j..., b...] = x[a..., idx[j...], b...]. */
export function gather(x: HostArray, idx: HostArray, { axis }: AttrMap['gather'], out: HostArray): HostArray {
  const [outer, n, inner] = around(x.shape, axis);
  checkIndices('gather', idx, axis, n);
  const m = idx.data.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const from = (o * n + idx.data[j]) * inner;
      out.data.set(x.data.subarray(from, from + inner), (o * m + j) * inner);
    }
  }
  return out;
}

/**
 * A copy of x with upd added at idx; duplicate indices accumulate in index order. Floats add in f64
 * and round once; int32 wraps; bool ORs.
 */
export function scatterAdd(x: HostArray, idx: HostArray, upd: HostArray, { axis }: AttrMap['scatter_add'], out: HostArray): HostArray {
  const [outer, n, inner] = around(x.shape, axis);
  checkIndices('scatter_add', idx, axis, n);
  const m = idx.data.length;
  const isInt = out.dtype === 'int32';
  const acc = Float64Array.from(x.data);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const to = (o * n + idx.data[j]) * inner;
      const from = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) {
        const s = acc[to + i] + upd.data[from + i];
        acc[to + i] = isInt ? s | 0 : s;
      }
    }
  }
  if (out.dtype === 'bool') for (let i = 0; i < acc.length; i++) out.data[i] = acc[i] !== 0 ? 1 : 0;
  else out.data.set(acc);
  return out;
}
