// Shared helpers of the reference-interpreter tests: array makers, a seeded PRNG, and `run`, which
// evaluates one primitive and checks its result against the op table's types and for aliasing.
import { expect } from 'vitest';
import { hostArray } from '../../src/ir/array.js';
import type { HostArray } from '../../src/ir/array.js';
import type { DType } from '../../src/ir/dtype.js';
import type { Block } from '../../src/ir/function.js';
import { evalPrimitive } from '../../src/ir/interpret.js';
import { inferTypes } from '../../src/ir/ops.js';
import type { AnyAttrs, Attrs, Primitive } from '../../src/ir/ops.js';

export const f32 = (shape: number[], data: ArrayLike<number>) => hostArray('float32', shape, data);
export const f64 = (shape: number[], data: ArrayLike<number>) => hostArray('float64', shape, data);
export const i32 = (shape: number[], data: ArrayLike<number>) => hostArray('int32', shape, data);
export const bool = (shape: number[], data: ArrayLike<number>) => hostArray('bool', shape, data);
export const scalar = (dtype: DType, x: number) => hostArray(dtype, [], [x]);

/** mulberry32: a tiny seeded PRNG so test data is fixed and never all zeros. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi) from `seed`. */
export function randoms(seed: number, n: number, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** `n` integers in [lo, hi) from `seed`. */
export function randomInts(seed: number, n: number, lo: number, hi: number): number[] {
  return randoms(seed, n, lo, hi).map(Math.floor);
}

/**
 * evalPrimitive plus the invariants every result must satisfy: dtype and shape from the op table,
 * a typed array of the right kind and length, and no buffer shared with an input.
 */
export function run<P extends Primitive>(prim: P, inputs: HostArray[], attrs: Attrs<P>, regions: readonly Block[] = []): HostArray[] {
  const expected = inferTypes(prim, inputs.map((x) => ({ dtype: x.dtype, shape: x.shape })), attrs, regions);
  const out = evalPrimitive(prim, inputs, attrs as AnyAttrs, regions);
  expect(out.length).toBe(expected.length);
  out.forEach((o, i) => {
    expect(o.dtype).toBe(expected[i].dtype);
    expect([...o.shape]).toEqual([...expected[i].shape]);
    expect(o.data.constructor).toBe(hostArray(o.dtype, [0]).data.constructor);
    expect(o.data.length).toBe(expected[i].shape.reduce((a, b) => a * b, 1));
    for (const x of inputs) expect(o.data.buffer === x.data.buffer && o.data.length > 0).toBe(false);
  });
  return out;
}

export const run1 = <P extends Primitive>(prim: P, inputs: HostArray[], attrs: Attrs<P>, regions: readonly Block[] = []) =>
  run(prim, inputs, attrs, regions)[0];

/** The data as a plain array (for toEqual, which treats NaN as equal to NaN and -0 apart from 0). */
export const values = (x: HostArray): number[] => Array.from(x.data as ArrayLike<number>);

/** Elementwise closeness with a relative+absolute tolerance; NaN must match NaN. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-6): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      expect(g, `element ${i}`).toBe(w);
      continue;
    }
    expect(Math.abs(g - w), `element ${i}: got ${g}, want ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  }
}
