// Helpers for the nn/optim/data suites: seeded tensors, closeness checks, plain-JS references, and a
// checkGrad wrapper that differentiates a module's output with respect to its input and parameters.
import { expect } from 'vitest';
import '../../src/codegen/cpu_ref.js';
import '../../src/frontend/autograd/methods.js';
import '../../src/frontend/methods.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { checkGrad } from '../../src/frontend/autograd/check.js';
import type { CheckGradOptions } from '../../src/frontend/autograd/check.js';
import { Module, functionalCall } from '../../src/frontend/nn/module.js';
import { bind1 } from '../../src/frontend/trace.js';
import { randValues } from '../frontend/nn_test_util.js';
import type { Rand } from '../frontend/nn_test_util.js';
import { hostArray } from '../../src/ir/array.js';
import { defaultDevice } from '../../src/frontend/trace.js';
export { randValues, expectClose, forEachIndex, rng } from '../frontend/nn_test_util.js';

/**
 * A seeded float32 tensor with values in [lo, hi) (never exactly 0) and the values as numbers, on the
 * default device (where layers put their parameters; KILN_DEVICE=wasm runs the suite on wasm).
 */
export function rand(shape: readonly number[], seed: number, lo = -1, hi = 1): Rand {
  const v = randValues(shape.reduce((a, b) => a * b, 1), seed, lo, hi);
  return { t: Tensor._fromHost(hostArray('float32', shape, v), defaultDevice()), v };
}

export const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

/** Flattens a tensor to rank 1 (for concatenating several outputs into one checked result). */
export const flat = (t: Tensor): Tensor => bind1('reshape', [t], { shape: [t.size] });

/** Largest |a - b| over two equally long arrays (shapes checked by the caller). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function expectAllClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])))) expect.fail(`element ${i}: got ${a[i]}, expected ${b[i]}`);
  }
}

/**
 * checkGrad of `out(functionalCall(model, params, ...inputs))` with respect to the float inputs and every
 * parameter (f64 finite differences vs the tape and the IR pass). Buffers ride along unchanged.
 */
export function expectModuleGrad(model: Module, inputs: Tensor[], out: (y: any) => Tensor = (y) => y as Tensor, opts: CheckGradOptions = {}): void {
  const names = [...model.namedParameters()].map(([n]) => n);
  const params = names.map((n) => model.stateDict()[n]);
  // checkGrad computes in float64 on cpu-ref; buffers join its inputs there.
  const buffers = Object.fromEntries([...model.namedBuffers()].map(([n, b]) => [n, Tensor._fromHost(hostArray('float64', b.shape, b.dataSync()), 'cpu-ref')]));
  const nIn = inputs.length;
  const r = checkGrad(
    (...xs: Tensor[]) => {
      const state = { ...buffers, ...Object.fromEntries(names.map((n, i) => [n, xs[nIn + i]])) };
      return out(functionalCall(model, state, ...xs.slice(0, nIn)).output);
    },
    [...inputs, ...params],
    opts,
  );
  const tol = opts.tol ?? 1e-6;
  expect(r.errors.tape ?? 0, 'tape gradient').toBeLessThan(tol);
  expect(r.errors.ir ?? 0, 'IR gradient').toBeLessThan(tol);
}

/** Plain-JS helpers for reference computations. */
export const sigmoidJs = (x: number) => 1 / (1 + Math.exp(-x));

/** y[r] = sum_k a[r, k] * b[k] for row-major a [rows, n]. */
export function matVec(a: ArrayLike<number>, rows: number, b: ArrayLike<number>, offset = 0): number[] {
  const n = b.length;
  return Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[(offset + r) * n + k] * b[k];
    return s;
  });
}
