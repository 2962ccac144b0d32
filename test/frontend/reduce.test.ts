import { describe, expect, it } from 'vitest';
import { sum, mean, variance, std, max, min, prod, argmax, argmin, all, any, logSumExp, cumsum, tensor, zeros, jit, Tensor } from '../../src/index.js';
import { look, expectClose, expectKilnError } from './api_helpers.js';

// x = [[1, -2, 3], [4, 5, -6]]: every reduction below is checked against these hand-computed values.
const x = () => tensor([[1, -2, 3], [4, 5, -6]]);

describe('sum', () => {
  it('all axes, one axis, negative axis, several axes, keepdims', () => {
    expect(look(sum(x()))).toEqual({ dtype: 'float32', shape: [], values: 5 });
    expect(look(sum(x(), { axis: 0 }))).toEqual({ dtype: 'float32', shape: [3], values: [5, 3, -3] });
    expect(look(sum(x(), { axis: -1 }))).toEqual({ dtype: 'float32', shape: [2], values: [2, 3] });
    expect(look(sum(x(), { axis: [0, 1] }))).toEqual({ dtype: 'float32', shape: [], values: 5 });
    expect(look(sum(x(), { axis: 1, keepdims: true }))).toEqual({ dtype: 'float32', shape: [2, 1], values: [[2], [3]] });
    expect(look(sum(x(), { keepdims: true }))).toEqual({ dtype: 'float32', shape: [1, 1], values: [[5]] });
    expect(look(sum(x(), { axis: [] }))).toEqual(look(x())); // no axes: nothing to reduce
  });

  it('int32 stays int32; bool counts as int32', () => {
    expect(look(sum(tensor([[1, 2], [3, 4]], { dtype: 'int32' }), { axis: 0 }))).toEqual({ dtype: 'int32', shape: [2], values: [4, 6] });
    expect(look(sum(tensor([true, false, true, true])))).toEqual({ dtype: 'int32', shape: [], values: 3 });
  });

  it('size-1 and size-0 dims: an empty sum is 0', () => {
    expect(look(sum(tensor([[2.5]]), { axis: 1 }))).toEqual({ dtype: 'float32', shape: [1], values: [2.5] });
    expect(look(sum(zeros([2, 0]), { axis: 1 }))).toEqual({ dtype: 'float32', shape: [2], values: [0, 0] });
    expect(look(sum(zeros([0, 3]), { axis: 1 }))).toEqual({ dtype: 'float32', shape: [0], values: [] });
  });

  it('errors name the op, the axis and the tensor', () => {
    expectKilnError(() => sum(x(), { axis: 2 }), 'sum', /axis 2/, /f32\[2,3\]/);
    expectKilnError(() => sum(x(), { axis: -3 }), 'sum', /axis -3/);
    expectKilnError(() => sum(x(), { axis: [1, -1] }), 'sum', /repeated/);
    expectKilnError(() => mean(x(), { axis: 1.5 }), /^mean: /);
    expectKilnError(() => variance(x(), { axis: 3 }), /^var: /, /f32\[2,3\]/);
    expectKilnError(() => std(x(), { axis: 3 }), /^std: /);
  });
});

describe('mean, var, std', () => {
  it('mean of floats and of ints (float32 result)', () => {
    expectClose(mean(x()), [5 / 6], 1e-6, []);
    expectClose(mean(x(), { axis: 0 }), [2.5, 1.5, -1.5], 1e-6, [3]);
    const m = mean(tensor([1, 2, 4], { dtype: 'int32' }));
    expect(m.dtype).toBe('float32');
    expectClose(m, [7 / 3], 1e-6);
    expectClose(mean(tensor([true, false, false, true])), [0.5], 0);
    expectClose(mean(x(), { axis: -1, keepdims: true }), [2 / 3, 1], 1e-6, [2, 1]);
  });

  it('var uses correction 1 by default (torch), 0 on request; std is its root', () => {
    // Row 0: mean 2/3, squared deviations sum 38/3 + ... computed by hand below.
    const dev = (r: number[]) => { const m = r.reduce((s, v) => s + v, 0) / r.length; return r.reduce((s, v) => s + (v - m) ** 2, 0); };
    const r0 = [1, -2, 3], r1 = [4, 5, -6], all6 = [...r0, ...r1];
    expectClose(variance(x(), { axis: 1 }), [dev(r0) / 2, dev(r1) / 2], 1e-5, [2]);
    expectClose(variance(x(), { axis: 1, correction: 0 }), [dev(r0) / 3, dev(r1) / 3], 1e-5, [2]);
    expectClose(variance(x()), [dev(all6) / 5], 1e-5, []);
    expectClose(std(x(), { axis: 1 }), [Math.sqrt(dev(r0) / 2), Math.sqrt(dev(r1) / 2)], 1e-5, [2]);
    expectClose(std(x(), { axis: 0, keepdims: true, correction: 0 }), [1.5, 3.5, 4.5], 1e-6, [1, 3]);
    expectClose(variance(tensor([2, 4, 9], { dtype: 'int32' }), { correction: 0 }), [78 / 9], 1e-5);
    expectClose(variance(tensor([2, 4, 9]), { unbiased: false }), [78 / 9], 1e-5);
    expectClose(variance(tensor([2, 4, 9]), { unbiased: true }), [78 / 6], 1e-5);
  });

  it('one element with correction 1 gives inf/NaN (n - 1 = 0), like NumPy', () => {
    expect(Number.isNaN(variance(tensor([3]), {}).item() as number)).toBe(true);
  });
});

describe('max, min, prod', () => {
  it('values along axes', () => {
    expect(look(max(x()))).toEqual({ dtype: 'float32', shape: [], values: 5 });
    expect(look(max(x(), { axis: 1 }))).toEqual({ dtype: 'float32', shape: [2], values: [3, 5] });
    expect(look(min(x(), { axis: 0 }))).toEqual({ dtype: 'float32', shape: [3], values: [1, -2, -6] });
    expect(look(min(x(), { axis: -1, keepdims: true }))).toEqual({ dtype: 'float32', shape: [2, 1], values: [[-2], [-6]] });
    expect(look(prod(x(), { axis: 1 }))).toEqual({ dtype: 'float32', shape: [2], values: [-6, -120] });
    expect(look(prod(x()))).toEqual({ dtype: 'float32', shape: [], values: 720 });
  });

  it('dtypes: int32 kept, bool max is any / bool prod counts as int32', () => {
    expect(look(max(tensor([3, -7, 2], { dtype: 'int32' })))).toEqual({ dtype: 'int32', shape: [], values: 3 });
    expect(look(max(tensor([false, true])))).toEqual({ dtype: 'bool', shape: [], values: true });
    expect(look(prod(tensor([true, true])))).toEqual({ dtype: 'int32', shape: [], values: 1 });
  });

  it('empty: prod is 1, max/min have no identity and error', () => {
    expect(look(prod(zeros([0])))).toEqual({ dtype: 'float32', shape: [], values: 1 });
    expectKilnError(() => max(zeros([2, 0]), { axis: 1 }), 'max', /empty/, /f32\[2,0\]/);
    expectKilnError(() => min(zeros([0])), 'min', /empty/);
    // Reducing a non-empty axis of a tensor with another empty axis is fine.
    expect(max(zeros([0, 3]), { axis: 1 }).shape).toEqual([0]);
  });
});

describe('argmax, argmin', () => {
  it('along an axis, negative axis, keepdims; int32 results', () => {
    expect(look(argmax(x(), { axis: 1 }))).toEqual({ dtype: 'int32', shape: [2], values: [2, 1] });
    expect(look(argmin(x(), { axis: 0 }))).toEqual({ dtype: 'int32', shape: [3], values: [0, 0, 1] });
    expect(look(argmax(x(), { axis: -2, keepdims: true }))).toEqual({ dtype: 'int32', shape: [1, 3], values: [[1, 1, 0]] });
  });

  it('without an axis: index into the flattened tensor', () => {
    expect(look(argmax(x()))).toEqual({ dtype: 'int32', shape: [], values: 4 });
    expect(look(argmin(x()))).toEqual({ dtype: 'int32', shape: [], values: 5 });
    expect(look(argmin(x(), { keepdims: true }))).toEqual({ dtype: 'int32', shape: [1, 1], values: [[5]] });
  });

  it('ties give the first index; int and bool inputs work', () => {
    expect(argmax(tensor([2, 7, 7, 1])).item()).toBe(1);
    expect(argmin(tensor([3, -1, 4, -1], { dtype: 'int32' })).item()).toBe(1);
    expect(argmax(tensor([false, true, true])).item()).toBe(1);
  });

  it('errors: empty tensor, bad axis', () => {
    expectKilnError(() => argmax(zeros([0])), 'argmax', /empty/);
    expectKilnError(() => argmin(x(), { axis: 5 }), 'argmin', /axis 5/, /f32\[2,3\]/);
  });
});

describe('all, any', () => {
  it('truthiness of numbers, bool results', () => {
    const b = tensor([[1, 0, 2], [3, 4, 5]]);
    expect(look(all(b, { axis: 1 }))).toEqual({ dtype: 'bool', shape: [2], values: [false, true] });
    expect(look(any(b, { axis: 0 }))).toEqual({ dtype: 'bool', shape: [3], values: [true, true, true] });
    expect(all(b).item()).toBe(false);
    expect(any(tensor([0, 0], { dtype: 'int32' })).item()).toBe(false);
    expect(look(all(tensor([true, true]), { keepdims: true }))).toEqual({ dtype: 'bool', shape: [1], values: [true] });
  });

  it('empty: all is true, any is false', () => {
    expect(all(zeros([0])).item()).toBe(true);
    expect(any(zeros([0])).item()).toBe(false);
  });
});

describe('logSumExp', () => {
  it('matches log(sum(exp)) and is stable for large values', () => {
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    expectClose(logSumExp(x(), { axis: 1 }), [lse([1, -2, 3]), lse([4, 5, -6])], 1e-6, [2]);
    expectClose(logSumExp(x()), [lse([1, -2, 3, 4, 5, -6])], 1e-6, []);
    expectClose(logSumExp(tensor([1000, 1000])), [1000 + Math.log(2)], 1e-6);
    expectClose(logSumExp(x(), { axis: 0, keepdims: true }), [lse([1, 4]), lse([-2, 5]), lse([3, -6])], 1e-6, [1, 3]);
  });

  it('-inf rows stay -inf, +inf stays +inf, ints become float32', () => {
    expectClose(logSumExp(tensor([[-Infinity, -Infinity], [Infinity, 0]]), { axis: 1 }), [-Infinity, Infinity], 0);
    expectClose(logSumExp(zeros([2, 0]), { axis: 1 }), [-Infinity, -Infinity], 0, [2]);
    const r = logSumExp(tensor([0, 0], { dtype: 'int32' }));
    expect(r.dtype).toBe('float32');
    expectClose(r, [Math.log(2)], 1e-6);
  });
});

describe('cumsum', () => {
  it('along the last axis by default, any axis on request', () => {
    expect(look(cumsum(x()))).toEqual({ dtype: 'float32', shape: [2, 3], values: [[1, -1, 2], [4, 9, 3]] });
    expect(look(cumsum(x(), { axis: 0 }))).toEqual({ dtype: 'float32', shape: [2, 3], values: [[1, -2, 3], [5, 3, -3]] });
    expect(look(cumsum(x(), { axis: -2 }))).toEqual(look(cumsum(x(), { axis: 0 })));
  });

  it('3-d middle axis keeps the axis order', () => {
    const t = tensor([[[1, 2], [3, 4], [5, 6]]]); // [1,3,2]
    expect(look(cumsum(t, { axis: 1 }))).toEqual({ dtype: 'float32', shape: [1, 3, 2], values: [[[1, 2], [4, 6], [9, 12]]] });
  });

  it('int32 and bool count in int32; empty and scalar-like inputs', () => {
    expect(look(cumsum(tensor([2, 3, -1], { dtype: 'int32' })))).toEqual({ dtype: 'int32', shape: [3], values: [2, 5, 4] });
    expect(look(cumsum(tensor([true, false, true])))).toEqual({ dtype: 'int32', shape: [3], values: [1, 1, 2] });
    expect(cumsum(zeros([2, 0])).shape).toEqual([2, 0]);
    expect(look(cumsum(tensor([[7]])))).toEqual({ dtype: 'float32', shape: [1, 1], values: [[7]] });
    expectKilnError(() => cumsum(x(), { axis: 2 }), 'cumsum', /axis 2/);
  });
});

describe('under jit', () => {
  it('reductions trace and agree with eager', () => {
    const f = jit((t: Tensor) => [sum(t, { axis: 1 }), mean(t), variance(t, { axis: 0 }), argmax(t), logSumExp(t, { axis: -1 }), cumsum(t)]);
    const t = x();
    const eager = [sum(t, { axis: 1 }), mean(t), variance(t, { axis: 0 }), argmax(t), logSumExp(t, { axis: -1 }), cumsum(t)];
    f(t).forEach((r: Tensor, i: number) => {
      expect(r.dtype).toBe(eager[i].dtype);
      expectClose(r, Array.from(eager[i].dataSync()), 1e-5, eager[i].shape);
    });
  });
});
