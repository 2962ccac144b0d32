// Reductions and data-movement primitives against finite differences (eager tape and IR pass).
import { describe, it } from 'vitest';
import { Tensor } from '../../src/frontend/tensor.js';
import { expectGrad, p, rand } from './helpers.js';

describe('reductions', () => {
  const cases: [number[], number[]][] = [[[5], [0]], [[2, 3], [1]], [[2, 3], [0, 1]], [[2, 3, 4], [0, 2]], [[3, 1, 2], [1]]];
  for (const prim of ['reduce_sum', 'reduce_max', 'reduce_min', 'reduce_prod'] as const) {
    it(`${prim} over several axes`, () => {
      cases.forEach(([shape, axes], k) => expectGrad((x) => p(prim, [x], { axes }), [rand(shape, 50 + k, 0.5, 2)]));
    });
  }
  it('reduce_prod with one zero and with two zeros in a row', () => {
    const x = p('constant', [], { value: [0, 2, 3, 0, 0, 5, 1.5, 2, 3], dtype: 'float64', shape: [3, 3] });
    expectGrad((a) => p('reduce_prod', [a], { axes: [1] }), [x]);
    expectGrad((a) => p('reduce_prod', [a], { axes: [0] }), [x]);
  });
  it('reduce_max splits the cotangent between ties', () => {
    const x = p('constant', [], { value: [1, 3, 3, 2], dtype: 'float64', shape: [4] });
    x.requiresGrad = true;
    p('reduce_max', [x], { axes: [0] }).backward();
    const g = Array.from(x.grad!.dataSync());
    if (g.join() !== '0,0.5,0.5,0') throw new Error(`ties: ${g}`);
  });
});

describe('movement', () => {
  it('reshape', () => {
    expectGrad((x) => p('reshape', [x], { shape: [3, 2] }), [rand([2, 3], 1)]);
    expectGrad((x) => p('reshape', [x], { shape: [] }), [rand([1, 1], 2)]);
  });
  it('broadcast: new dims and size-1 dims', () => {
    expectGrad((x) => p('broadcast', [x], { shape: [2, 3, 4], dims: [1] }), [rand([3], 3)]);
    expectGrad((x) => p('broadcast', [x], { shape: [2, 3, 4], dims: [0, 2] }), [rand([1, 4], 4)]);
    expectGrad((x) => p('broadcast', [x], { shape: [5], dims: [] }), [rand([], 5)]);
    expectGrad((x) => p('broadcast', [x], { shape: [3, 1, 2], dims: [0, 1, 2] }), [rand([1, 1, 2], 6)]);
  });
  it('transpose', () => {
    expectGrad((x) => p('transpose', [x], { perm: [1, 0] }), [rand([2, 3], 7)]);
    expectGrad((x) => p('transpose', [x], { perm: [2, 0, 1] }), [rand([2, 3, 4], 8)]);
  });
  it('slice with strides and offsets', () => {
    expectGrad((x) => p('slice', [x], { start: [1], limit: [5], stride: [1] }), [rand([6], 9)]);
    expectGrad((x) => p('slice', [x], { start: [1, 0], limit: [7, 5], stride: [2, 3] }), [rand([7, 5], 10)]);
    expectGrad((x) => p('slice', [x], { start: [0, 2], limit: [2, 2], stride: [1, 1] }), [rand([3, 4], 11)]);
  });
  it('pad: low/high, interior and negative (cropping) pads', () => {
    expectGrad((x) => p('pad', [x], { low: [1, 0], high: [2, 1], interior: [0, 0], value: 0 }), [rand([2, 3], 12)]);
    expectGrad((x) => p('pad', [x], { low: [1], high: [0], interior: [2], value: 1.5 }), [rand([4], 13)]);
    expectGrad((x) => p('pad', [x], { low: [-1, 2], high: [-2, -1], interior: [1, 1], value: 0 }), [rand([5, 3], 14)]);
  });
  it('concat along each axis', () => {
    expectGrad((a, b) => p('concat', [a, b], { axis: 0 }), [rand([2, 3], 15), rand([1, 3], 16)]);
    expectGrad((a, b, c) => p('concat', [a, b, c], { axis: 1 }), [rand([2, 1], 17), rand([2, 3], 18), rand([2, 2], 19)]);
  });
  it('flip', () => {
    expectGrad((x) => p('flip', [x], { axes: [0, 2] }), [rand([2, 3, 2], 20)]);
  });
  it('gather and scatter_add', () => {
    const idx = p('constant', [], { value: [2, 0, 2, 1], dtype: 'int32', shape: [2, 2] });
    expectGrad((x, i) => p('gather', [x, i], { axis: 1 }), [rand([3, 4], 21), idx]);
    expectGrad((x, i, u) => p('scatter_add', [x, i, u], { axis: 0 }), [rand([3, 2], 22), idx, rand([2, 2, 2], 23)]);
  });
  it('a chain mixing them, with reuse of one input', () => {
    const f = (x: Tensor) => {
      const t = p('transpose', [x], { perm: [1, 0] });
      const s = p('slice', [t], { start: [0, 1], limit: [3, 2], stride: [2, 1] });
      const b = p('broadcast', [p('reshape', [s], { shape: [2] })], { shape: [3, 2], dims: [1] });
      return p('mul', [b, p('flip', [t], { axes: [1] })]);
    };
    expectGrad(f, [rand([2, 3], 24)]);
  });
});
