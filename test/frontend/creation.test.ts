import { describe, expect, it } from 'vitest';
import { zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, tensor, jit, makeIR } from '../../src/index.js';
import { look, expectClose, expectKilnError } from './api_helpers.js';

describe('filled tensors', () => {
  it('full, zeros, ones with default and explicit dtypes', () => {
    expect(look(full([2, 3], 7.5))).toEqual({ dtype: 'float32', shape: [2, 3], values: [[7.5, 7.5, 7.5], [7.5, 7.5, 7.5]] });
    expect(look(full([2], true))).toEqual({ dtype: 'bool', shape: [2], values: [true, true] });
    expect(look(full([3], -4, { dtype: 'int32' }))).toEqual({ dtype: 'int32', shape: [3], values: [-4, -4, -4] });
    expect(look(zeros([1, 2]))).toEqual({ dtype: 'float32', shape: [1, 2], values: [[0, 0]] });
    expect(look(ones([2], { dtype: 'bool' }))).toEqual({ dtype: 'bool', shape: [2], values: [true, true] });
    expect(look(ones([]))).toEqual({ dtype: 'float32', shape: [], values: 1 });
  });

  it('size-0 shapes', () => {
    expect(look(zeros([0, 3]))).toEqual({ dtype: 'float32', shape: [0, 3], values: [] });
    expect(ones([4, 0]).size).toBe(0);
  });

  it('*Like copies shape, dtype and device unless overridden', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'int32' });
    expect(look(zerosLike(x))).toEqual({ dtype: 'int32', shape: [1, 3], values: [[0, 0, 0]] });
    expect(look(onesLike(x, { dtype: 'float32' }))).toEqual({ dtype: 'float32', shape: [1, 3], values: [[1, 1, 1]] });
    expect(look(fullLike(x, 9))).toEqual({ dtype: 'int32', shape: [1, 3], values: [[9, 9, 9]] });
    expect(zerosLike(x).device).toBe(x.device);
  });

  it('rejects bad shapes and dtypes', () => {
    expectKilnError(() => zeros([2, -1]), 'zeros', /non-negative/);
    expectKilnError(() => ones([1.5]), 'ones');
    expectKilnError(() => full([2], 1, { dtype: 'float16' as never }), 'full', /unknown dtype 'float16'/);
  });
});

describe('arange', () => {
  it('one, two and three arguments like NumPy', () => {
    expect(look(arange(4))).toEqual({ dtype: 'int32', shape: [4], values: [0, 1, 2, 3] });
    expect(look(arange(2, 6))).toEqual({ dtype: 'int32', shape: [4], values: [2, 3, 4, 5] });
    expect(look(arange(5, -1, -2))).toEqual({ dtype: 'int32', shape: [3], values: [5, 3, 1] });
    expect(look(arange(1, 7, 3))).toEqual({ dtype: 'int32', shape: [2], values: [1, 4] });
  });

  it('float arguments give float32; the length is ceil((stop - start) / step)', () => {
    const a = arange(0, 1, 0.25);
    expect(a.dtype).toBe('float32');
    expectClose(a, [0, 0.25, 0.5, 0.75], 0, [4]);
    expectClose(arange(0.5, 2), [0.5, 1.5], 0, [2]);
    expect(look(arange(3, { dtype: 'float32' }))).toEqual({ dtype: 'float32', shape: [3], values: [0, 1, 2] });
    expect(look(arange(1, 3, { dtype: 'float32' }))).toEqual({ dtype: 'float32', shape: [2], values: [1, 2] });
  });

  it('dtype option', () => {
    expect(look(arange(0, 3, 1, { dtype: 'float32' }))).toEqual({ dtype: 'float32', shape: [3], values: [0, 1, 2] });
  });

  it('empty ranges', () => {
    expect(arange(0).shape).toEqual([0]);
    expect(arange(5, 2).shape).toEqual([0]);
    expect(arange(2, 5, -1).shape).toEqual([0]);
  });

  it('rejects a zero or non-finite step', () => {
    expectKilnError(() => arange(0, 3, 0), 'arange', /step/);
    expectKilnError(() => arange(0, 3, Infinity), 'arange', /step/);
    expectKilnError(() => arange(0, NaN), 'arange', /finite/);
  });
});

describe('linspace and eye', () => {
  it('linspace includes the endpoint by default', () => {
    expectClose(linspace(-1, 1, 5), [-1, -0.5, 0, 0.5, 1], 1e-7, [5]);
    expectClose(linspace(0, 1, 4, { endpoint: false }), [0, 0.25, 0.5, 0.75], 1e-7, [4]);
    expectClose(linspace(3, 9, 1), [3], 0, [1]);
    expect(linspace(0, 1, 0).shape).toEqual([0]);
    expectKilnError(() => linspace(0, 1, -2), 'linspace', /num/);
  });

  it('eye: square, rectangular, dtype', () => {
    expect(look(eye(3))).toEqual({ dtype: 'float32', shape: [3, 3], values: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] });
    expect(look(eye(2, 3, { dtype: 'int32' }))).toEqual({ dtype: 'int32', shape: [2, 3], values: [[1, 0, 0], [0, 1, 0]] });
    expect(look(eye(3, 1, { dtype: 'bool' }))).toEqual({ dtype: 'bool', shape: [3, 1], values: [[true], [false], [false]] });
    expect(eye(0).shape).toEqual([0, 0]);
  });
});

describe('under jit, creation ops are staged into the graph', () => {
  it('constant and iota appear as IR ops instead of baked arrays', () => {
    const fn = makeIR((x) => x.add(arange(3)).add(ones([3])).mul(eye(3)))(tensor([1.5, 2.5, 3.5]));
    const prims = fn.body.ops.map((o) => o.prim);
    expect(prims).toContain('iota');
    expect(prims).toContain('constant');
    // A staged constant is one splat value, never the whole array.
    for (const op of fn.body.ops.filter((o) => o.prim === 'constant')) expect((op.attrs.value as number[]).length).toBe(1);
    // The placement attribute never reaches the IR.
    for (const op of fn.body.ops) expect(op.attrs).not.toHaveProperty('device');
  });

  it('jitted creation gives the eager values', () => {
    const f = jit((x) => x.mul(linspace(0, 1, 3)).add(full([3], 2)));
    const x = tensor([4, 8, 12]);
    expectClose(f(x), [2, 6, 14]);
    expectClose(f(x), [2, 6, 14]);
  });
});
