// Shared helpers for the autodiff tests: seeded data, primitives by name, and a checkGrad assertion.
import { expect } from 'vitest';
import '../../src/codegen/cpu_ref.js';
import '../../src/frontend/autograd/methods.js';
import type { AnyAttrs, Primitive } from '../../src/ir/ops.js';
import type { DType } from '../../src/ir/dtype.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { bind } from '../../src/frontend/trace.js';
import { tensor } from '../../src/frontend/convert.js';
import { checkGrad, CheckGradOptions } from '../../src/frontend/autograd/check.js';

/** One primitive, one result. */
export const p = (prim: Primitive, ins: Tensor[], attrs: AnyAttrs = {}): Tensor => bind(prim, ins, attrs)[0];

export const sumAll = (x: Tensor): Tensor => p('reduce_sum', [x], { axes: x.shape.map((_, i) => i) });

/** Seeded values in [lo, hi) (a small LCG; never exactly zero unless the range asks for it). */
export function rand(shape: number[], seed: number, lo = -1, hi = 1, dtype: DType = 'float64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0 || 1;
  const data = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = lo + ((s >>> 8) / (1 << 24)) * (hi - lo);
    return v === 0 ? 0.125 : v;
  });
  return p('reshape', [tensor(new Float64Array(data), { dtype })], { shape });
}

/** Asserts that both the tape and the IR pass agree with finite differences (f64, rel. error < 1e-6). */
export function expectGrad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: CheckGradOptions = {}): void {
  const r = checkGrad(f, inputs, opts);
  expect(r.errors.tape ?? 0, 'tape').toBeLessThan(opts.tol ?? 1e-6);
  expect(r.errors.ir ?? 0, 'ir').toBeLessThan(opts.tol ?? 1e-6);
  expect(r.ok).toBe(true);
}

export const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** Element-wise closeness of two tensors (or arrays). */
export function expectClose(a: Tensor | number[], b: Tensor | number[], tol = 1e-9): void {
  const x = a instanceof Tensor ? values(a) : a;
  const y = b instanceof Tensor ? values(b) : b;
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(y[i]))));
}
