// Test helpers for the linalg / nn_functional suites: seeded data, tensors from flat arrays, naive
// references indexed by hand, and closeness checks that report the first bad index.
import { expect } from 'vitest';
import '../../src/codegen/cpu_ref.js';
import { hostArray } from '../../src/ir/array.js';
import type { DType } from '../../src/ir/dtype.js';
import { sizeOf } from '../../src/ir/shape.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor as makeTensor, TensorOptions } from '../../src/frontend/convert.js';
import type { NestedArray } from '../../src/frontend/tensor.js';

/** mulberry32: small, fast, reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi) rounded to f32 (so references see exactly the tensor's data); never 0. */
export function randValues(n: number, seed: number, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const v = Math.fround(lo + (hi - lo) * r());
    return v === 0 ? 0.125 : v;
  });
}

/** tensor() on 'cpu-ref', with fromFlat's data, whatever the default device (KILN_DEVICE) is. */
export function tensor(data: NestedArray, opts: TensorOptions = {}): Tensor {
  return makeTensor(data, { device: 'cpu-ref', ...opts });
}

export function fromFlat(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return Tensor._fromHost(hostArray(dtype, shape, data), 'cpu-ref');
}

export interface Rand {
  t: Tensor;
  v: number[];
}
export function rand(shape: readonly number[], seed: number, dtype: DType = 'float32', lo = -1, hi = 1): Rand {
  const v = randValues(sizeOf(shape), seed, lo, hi);
  return { t: fromFlat(v, shape, dtype), v };
}

/** Expects `actual` to match `expected` elementwise within atol + rtol*|expected| (and shapes to match). */
export function expectClose(actual: Tensor, expected: ArrayLike<number>, shape?: readonly number[], tol = { atol: 1e-5, rtol: 1e-5 }): void {
  if (shape) expect([...actual.shape]).toEqual([...shape]);
  const a = actual.dataSync();
  expect(a.length).toBe(expected.length);
  for (let i = 0; i < a.length; i++) {
    const e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a[i]) : e === a[i] || Math.abs(a[i] - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!ok) expect.fail(`element ${i}: got ${a[i]}, expected ${e} (shape [${actual.shape.join(',')}])`);
  }
}

/** Row-major strides, for naive reference loops. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Calls fn with every multi-index of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], fn: (idx: number[], flat: number) => void): void {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(idx, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

export const dotProduct = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
