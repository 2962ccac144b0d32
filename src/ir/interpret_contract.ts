// Reference semantics of the contractions (dot_general, conv) and of reduce_window: loops that
// accumulate in f64 (int32 in wrapping int arithmetic) and round once on store.
import type { HostArray } from './array.js';
import type { AttrMap, PadPair } from './ops.js';
import { sizeOf, stridesOf } from './shape.js';
import { copyStrided } from './interpret_movement.js';

/** Copies x into a fresh contiguous array laid out as its dims in `order` (a transposed view). */
function packed<T extends Float64Array | Int32Array>(x: HostArray, order: readonly number[], make: (n: number) => T): T {
  const xs = stridesOf(x.shape);
  const shape = order.map((d) => x.shape[d]);
  const dst = make(sizeOf(shape));
  copyStrided(shape, dst, 0, stridesOf(shape), x.data, 0, order.map((d) => xs[d]));
  return dst;
}

const prod = (shape: readonly number[], dims: readonly number[]) => dims.reduce((s, d) => s * shape[d], 1);

// The hot loops live in tiny monomorphic functions (Float64Array only), which V8 optimizes far
// better than the same loop inlined in a big function that also sees other array types.

/** acc[j] += a * b[off + j] for j < n. */
function axpy(acc: Float64Array, a: number, b: Float64Array, off: number, n: number): void {
  for (let j = 0; j < n; j++) acc[j] += a * b[off + j];
}

/** acc[p] += a * x[base + offsets[row + p]] for p < n (offsets point at a zero where padding is). */
function gatherAxpy(acc: Float64Array, a: number, x: Float64Array, base: number, offsets: Int32Array, row: number, n: number): void {
  for (let p = 0; p < n; p++) acc[p] += a * x[base + offsets[row + p]];
}

/**
 * Both operands are packed as [batch, free, contract] and [batch, contract, free], then multiplied in
 * i-k-j order (the inner loop streams a row of rhs into a row accumulator). The output dims are
 * exactly batch, lhs free, rhs free, so the accumulator rows land contiguously.
 */
export function dotGeneral(a: HostArray, b: HostArray, { contract, batch }: AttrMap['dot_general'], out: HostArray): HostArray {
  const [ca, cb] = contract;
  const [ba, bb] = batch;
  const freeA = [...a.shape.keys()].filter((d) => !ca.includes(d) && !ba.includes(d));
  const freeB = [...b.shape.keys()].filter((d) => !cb.includes(d) && !bb.includes(d));
  const B = prod(a.shape, ba);
  const M = prod(a.shape, freeA);
  const K = prod(a.shape, ca);
  const N = prod(b.shape, freeB);
  if (out.dtype === 'int32') {
    // Products of int32s overflow f64's exact range, so int contractions use wrapping imul/add.
    const A = packed(a, [...ba, ...freeA, ...ca], (n) => new Int32Array(n));
    const Bm = packed(b, [...bb, ...cb, ...freeB], (n) => new Int32Array(n));
    const acc = new Int32Array(N);
    for (let p = 0; p < B; p++) {
      for (let i = 0; i < M; i++) {
        acc.fill(0);
        for (let k = 0; k < K; k++) {
          const av = A[(p * M + i) * K + k];
          const row = (p * K + k) * N;
          for (let j = 0; j < N; j++) acc[j] = (acc[j] + Math.imul(av, Bm[row + j])) | 0;
        }
        out.data.set(acc, (p * M + i) * N);
      }
    }
    return out;
  }
  const A = packed(a, [...ba, ...freeA, ...ca], (n) => new Float64Array(n));
  const Bm = packed(b, [...bb, ...cb, ...freeB], (n) => new Float64Array(n));
  const acc = new Float64Array(N);
  for (let p = 0; p < B; p++) {
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        // No skipping of zero av: 0 * NaN and 0 * Infinity must still poison the sum.
        axpy(acc, A[(p * M + i) * K + k], Bm, (p * K + k) * N, N);
      }
      out.data.set(acc, (p * M + i) * N);
    }
  }
  return out;
}

/**
 * For a sliding window, the flat input offset each (window tap, output position) pair reads, or -1
 * where it falls on padding (or on a hole of lhs dilation). Laid out [tap][position], both flat
 * row-major over the spatial dims. `source(d, p, k)` gives the input index on dim d or -1.
 */
function windowOffsets(
  inShape: readonly number[], tapShape: readonly number[], outShape: readonly number[],
  source: (d: number, p: number, k: number) => number,
): Int32Array {
  const nd = inShape.length;
  const taps = sizeOf(tapShape);
  const positions = sizeOf(outShape);
  const table = new Int32Array(taps * positions);
  const tap = new Array<number>(nd).fill(0);
  for (let t = 0; t < taps; t++) {
    // Build the offsets for this tap one dim at a time: offsets over dims [0, d] from dims [0, d).
    let offs = Int32Array.of(0);
    for (let d = 0; d < nd; d++) {
      const next = new Int32Array(offs.length * outShape[d]);
      for (let e = 0; e < offs.length; e++) {
        for (let p = 0; p < outShape[d]; p++) {
          const i = source(d, p, tap[d]);
          next[e * outShape[d] + p] = offs[e] < 0 || i < 0 ? -1 : offs[e] * inShape[d] + i;
        }
      }
      offs = next;
    }
    table.set(offs, t * positions);
    for (let d = nd - 1; d >= 0; d--) {
      if (++tap[d] < tapShape[d]) break;
      tap[d] = 0;
    }
  }
  return table;
}

/**
 * Cross-correlation (no kernel flip). Output position p and kernel tap k on a spatial dim read
 * position q = p*stride + k*rhsDilation - padLow of the lhs-dilated input, which holds
 * x[q / lhsDilation] when q is a multiple of lhsDilation inside the input and zero otherwise.
 */
export function conv(x: HostArray, w: HostArray, attrs: AttrMap['conv'], out: HostArray): HostArray {
  const { stride, padding, lhsDilation, rhsDilation, groups } = attrs;
  const [N, C] = x.shape;
  const [O, Cg] = w.shape;
  const inShape = x.shape.slice(2);
  const kShape = w.shape.slice(2);
  const outShape = out.shape.slice(2);
  const inSize = sizeOf(inShape);
  const kSize = sizeOf(kShape);
  const outSize = sizeOf(outShape);
  const offsets = windowOffsets(inShape, kShape, outShape, (d, p, k) => {
    const q = p * stride[d] + k * rhsDilation[d] - padding[d][0];
    if (q < 0 || q % lhsDilation[d] !== 0) return -1;
    const i = q / lhsDilation[d];
    return i < inShape[d] ? i : -1;
  });
  // Each input plane gets one trailing zero and padding taps point at it, so the inner loop has no
  // branch: planes are (inSize + 1) long in f64.
  const plane = inSize + 1;
  const xs = new Float64Array(N * C * plane);
  for (let q = 0; q < N * C; q++) {
    for (let i = 0; i < inSize; i++) xs[q * plane + i] = x.data[q * inSize + i];
  }
  for (let i = 0; i < offsets.length; i++) if (offsets[i] < 0) offsets[i] = inSize;
  const ws = Float64Array.from(w.data);
  const perGroup = O / groups;
  const acc = new Float64Array(outSize);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / perGroup);
      acc.fill(0);
      for (let c = 0; c < Cg; c++) {
        const xBase = (n * C + g * Cg + c) * plane;
        const wBase = (o * Cg + c) * kSize;
        for (let t = 0; t < kSize; t++) gatherAxpy(acc, ws[wBase + t], xs, xBase, offsets, t * outSize, outSize);
      }
      out.data.set(acc, (n * O + o) * outSize);
    }
  }
  return out;
}

/**
 * Pooling over the trailing window.length dims. Padding holds the identity of the reduction
 * (-Infinity, int32 min or false for max; 0 for sum), so padded taps are simply skipped. max
 * propagates NaN; int32 sums wrap; a bool sum is an OR.
 */
export function reduceWindow(x: HostArray, { kind, window, stride, padding }: AttrMap['reduce_window'], out: HostArray): HostArray {
  const nd = window.length;
  const lead = x.shape.length - nd;
  const L = sizeOf(x.shape.slice(0, lead));
  const inShape = x.shape.slice(lead);
  const outShape = out.shape.slice(lead);
  const inSize = sizeOf(inShape);
  const outSize = sizeOf(outShape);
  const taps = sizeOf(window);
  const offsets = windowOffsets(inShape, window, outShape, (d, p, k) => {
    const i = p * stride[d] + k - (padding[d] as PadPair)[0];
    return i >= 0 && i < inShape[d] ? i : -1;
  });
  const isInt = x.dtype === 'int32';
  const init = kind === 'sum' ? 0 : isInt ? -2147483648 : x.dtype === 'bool' ? 0 : -Infinity;
  const acc = new Float64Array(outSize);
  for (let l = 0; l < L; l++) {
    acc.fill(init);
    const base = l * inSize;
    for (let t = 0; t < taps; t++) {
      const row = t * outSize;
      for (let p = 0; p < outSize; p++) {
        const s = offsets[row + p];
        if (s < 0) continue;
        const v = x.data[base + s];
        if (kind === 'max') {
          if (v > acc[p] || v !== v) acc[p] = v;
        } else {
          acc[p] = isInt ? (acc[p] + v) | 0 : acc[p] + v;
        }
      }
    }
    if (out.dtype === 'bool') for (let p = 0; p < outSize; p++) out.data[l * outSize + p] = acc[p] !== 0 ? 1 : 0;
    else out.data.set(acc, l * outSize);
  }
  return out;
}
