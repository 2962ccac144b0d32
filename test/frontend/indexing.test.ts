import { describe, expect, it } from 'vitest';
import { slice, index, take, takeAlongAxis, gather, scatterAdd, oneHot, tensor, arange, reshape, zeros, jit, Tensor } from '../../src/index.js';
import { look, expectKilnError } from './api_helpers.js';

// m = [[0..3],[4..7],[8..11]] as int32 [3,4]; c = 0..23 as [2,3,4]
const m = () => reshape(arange(12), [3, 4]);
const c = () => reshape(arange(24), [2, 3, 4]);
const rows = (t: Tensor) => t.tolist();

describe('slice', () => {
  it('starts/ends/steps per leading axis, Python bounds', () => {
    expect(rows(slice(m(), [1], [3]))).toEqual([[4, 5, 6, 7], [8, 9, 10, 11]]);
    expect(rows(slice(m(), [0, 1], [2, 3]))).toEqual([[1, 2], [5, 6]]);
    expect(rows(slice(m(), [0, 0], [3, 4], [2, 3]))).toEqual([[0, 3], [8, 11]]);
    expect(rows(slice(m(), [-1]))).toEqual([[8, 9, 10, 11]]);
    expect(rows(slice(m(), [0, -2], [undefined, 100] as never))).toEqual([[2, 3], [6, 7], [10, 11]]);
    expect(slice(m(), [2], [1]).shape).toEqual([0, 4]);
  });

  it('negative steps walk backwards (flip + slice)', () => {
    expect(rows(slice(arange(5), [4], [undefined], [-2]))).toEqual([4, 2, 0]);
    expect(rows(slice(arange(5), [3], [0], [-1]))).toEqual([3, 2, 1]);
    expect(rows(slice(m(), [0, 3], [3, 0], [1, -2]))).toEqual([[3, 1], [7, 5], [11, 9]]);
  });

  it('errors: too many starts, zero step', () => {
    expectKilnError(() => slice(m(), [0, 0, 0]), 'slice', /3 starts/, /i32\[3,4\]/);
    expectKilnError(() => slice(m(), [0], [2], [0]), 'slice', /step/);
  });
});

describe('index (NumPy basic indexing)', () => {
  it('numbers remove the axis, negative numbers count from the end', () => {
    expect(look(index(m(), 1))).toEqual({ dtype: 'int32', shape: [4], values: [4, 5, 6, 7] });
    expect(look(index(m(), -1, -2))).toEqual({ dtype: 'int32', shape: [], values: 10 });
    expect(rows(index(c(), 1, 0))).toEqual([12, 13, 14, 15]);
  });

  it("ranges 'a:b', 'a:b:c', '::-1', ':' and missing trailing axes", () => {
    expect(rows(index(m(), '1:3'))).toEqual([[4, 5, 6, 7], [8, 9, 10, 11]]);
    expect(rows(index(m(), ':', '::2'))).toEqual([[0, 2], [4, 6], [8, 10]]);
    expect(rows(index(m(), '::-1', 0))).toEqual([8, 4, 0]);
    expect(rows(index(m(), 0, '-1:0:-1'))).toEqual([3, 2, 1]);
    expect(rows(index(m(), ' : ', '2:'))).toEqual([[2, 3], [6, 7], [10, 11]]);
    expect(index(m(), '5:').shape).toEqual([0, 4]);
  });

  it("null inserts an axis; '...' stands for the remaining axes", () => {
    expect(index(m(), null).shape).toEqual([1, 3, 4]);
    expect(index(m(), ':', null).shape).toEqual([3, 1, 4]);
    expect(index(m(), 0, null).shape).toEqual([1, 4]);
    expect(index(c(), '...', 0).shape).toEqual([2, 3]);
    expect(rows(index(c(), '...', 1, 2))).toEqual([6, 18]);
    expect(index(c(), 0, '...', null).shape).toEqual([3, 4, 1]);
    expect(index(c(), '...').shape).toEqual([2, 3, 4]);
    expect(index(tensor(5), null).shape).toEqual([1]);
  });

  it('errors: out of range, too many indices, two ellipses, unreadable ranges', () => {
    expectKilnError(() => index(m(), 3), 'index', /index 3/, /size 3/, /i32\[3,4\]/);
    expectKilnError(() => index(m(), 0, -5), 'index', /-5/);
    expectKilnError(() => index(m(), 0, 0, 0), 'index', /3 indices/);
    expectKilnError(() => index(m(), '...', '...'), 'index', /one '\.\.\.'/);
    expectKilnError(() => index(m(), '1'), 'index', /range/);
    expectKilnError(() => index(m(), '1:x'), 'index', /'x'/);
    expectKilnError(() => index(m(), '::0'), 'step');
    expectKilnError(() => index(m(), 1.5), 'index');
  });

  it('the method form is the same function', () => {
    expect(rows(m().index(':', -1))).toEqual([3, 7, 11]);
    expect(rows(m().slice([1], [2]))).toEqual([[4, 5, 6, 7]]);
  });
});

describe('take', () => {
  it('without an axis: positions of the flattened tensor, shaped like the indices', () => {
    expect(look(take(m(), [0, 5, 11]))).toEqual({ dtype: 'int32', shape: [3], values: [0, 5, 11] });
    expect(look(take(m(), tensor([[1, -1]], { dtype: 'int32' })))).toEqual({ dtype: 'int32', shape: [1, 2], values: [[1, 11]] });
  });

  it('along an axis: x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]', () => {
    expect(rows(take(m(), [2, 0], { axis: 0 }))).toEqual([[8, 9, 10, 11], [0, 1, 2, 3]]);
    expect(rows(take(m(), [-1, 1, 1], { axis: -1 }))).toEqual([[3, 1, 1], [7, 5, 5], [11, 9, 9]]);
    expect(take(c(), tensor([[0, 1], [1, 0]], { dtype: 'int32' }), { axis: 1 }).shape).toEqual([2, 2, 2, 4]);
    expect(take(m(), tensor([], { dtype: 'int32' }), { axis: 1 }).shape).toEqual([3, 0]);
  });

  it('errors name take: out of range, bool indices, bad axis', () => {
    expectKilnError(() => take(m(), [4], { axis: 1 }), /^take: /, /i32\[3,4\]/, /out of range/);
    expectKilnError(() => take(m(), [-5], { axis: 1 }), /^take: /, /out of range/);
    expectKilnError(() => take(m(), tensor([true, false]), { axis: 0 }), 'take', /bool/);
    expectKilnError(() => take(m(), [0], { axis: 2 }), 'take', /axis 2/);
  });
});

describe('takeAlongAxis / gather (torch.gather)', () => {
  it('picks one element per row, like selecting the logit of each label', () => {
    const logits = tensor([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]]);
    const labels = tensor([[1], [0]], { dtype: 'int32' });
    expect(look(gather(logits, labels, { axis: 1 }))).toEqual({ dtype: 'float32', shape: [2, 1], values: [[0.699999988079071], [0.5]] });
    expect(rows(takeAlongAxis(m(), tensor([[3, 0], [1, 1], [-1, 2]], { dtype: 'int32' })))).toEqual([[3, 0], [5, 5], [11, 10]]);
  });

  it('along axis 0 and in 3-d; size-1 index dims broadcast', () => {
    expect(rows(takeAlongAxis(m(), tensor([[2, 0, 1, 0]], { dtype: 'int32' }), { axis: 0 }))).toEqual([[8, 1, 6, 3]]);
    const idx = tensor([[[1], [0], [2]]], { dtype: 'int32' }); // [1,3,1] against c [2,3,4], axis 2
    expect(look(takeAlongAxis(c(), idx, { axis: 2 }))).toEqual({ dtype: 'int32', shape: [2, 3, 1], values: [[[1], [4], [10]], [[13], [16], [22]]] });
    // The same as NumPy's take_along_axis result for a sort order.
    const order = tensor([[3, 2, 1, 0], [0, 1, 2, 3], [1, 0, 3, 2]], { dtype: 'int32' });
    expect(rows(m().gather(order))).toEqual([[3, 2, 1, 0], [4, 5, 6, 7], [9, 8, 11, 10]]);
  });

  it('errors: rank, range, shapes', () => {
    expectKilnError(() => gather(m(), [1, 2]), 'takeAlongAxis', /rank/, /i32\[3,4\]/);
    expectKilnError(() => gather(m(), tensor([[4]], { dtype: 'int32' })), 'takeAlongAxis', /index 4/, /size 4/);
    expectKilnError(() => gather(m(), tensor([[0], [0]], { dtype: 'int32' }), { axis: 1 }), 'takeAlongAxis');
  });

  it('traces under jit', () => {
    const f = jit((x: Tensor, i: Tensor) => gather(x, i, { axis: 1 }));
    const i = tensor([[1], [0], [3]], { dtype: 'int32' });
    expect(rows(f(m(), i))).toEqual([[1], [4], [11]]);
  });
});

describe('scatterAdd', () => {
  it('adds updates at indices; duplicates accumulate', () => {
    const x = tensor([1, 2, 3, 4]);
    expect(rows(scatterAdd(x, tensor([0, 2, 0], { dtype: 'int32' }), tensor([10, 20, 30])))).toEqual([41, 2, 23, 4]);
    expect(rows(scatterAdd(x, [-1], [0.5]))).toEqual([1, 2, 3, 4.5]);
  });

  it('along an axis: updates shaped like take(x, indices, {axis})', () => {
    const x = tensor([[1, 1, 1], [2, 2, 2]]);
    expect(rows(scatterAdd(x, [2, 2], tensor([[5, 6], [7, 8]]), { axis: 1 }))).toEqual([[1, 1, 12], [2, 2, 17]]);
    expect(rows(x.scatterAdd([1], tensor([[3, 4, 5]]), { axis: 0 }))).toEqual([[1, 1, 1], [5, 6, 7]]);
  });

  it('errors name scatterAdd', () => {
    expectKilnError(() => scatterAdd(tensor([1, 2]), [5], [1]), /^scatterAdd: /, /out of range/);
    expectKilnError(() => scatterAdd(tensor([1, 2]), [0], [1, 2]), /^scatterAdd: /, /updates/);
  });
});

describe('oneHot', () => {
  it('float32 by default, any index shape, other dtypes on request', () => {
    expect(look(oneHot(tensor([2, 0], { dtype: 'int32' }), 3))).toEqual({ dtype: 'float32', shape: [2, 3], values: [[0, 0, 1], [1, 0, 0]] });
    expect(look(oneHot([[1]], 2, { dtype: 'int32' }))).toEqual({ dtype: 'int32', shape: [1, 1, 2], values: [[[0, 1]]] });
    expect(look(tensor([1], { dtype: 'int32' }).oneHot(2, { dtype: 'bool' }))).toEqual({ dtype: 'bool', shape: [1, 2], values: [[false, true]] });
    expect(oneHot(zeros([0], { dtype: 'int32' }), 4).shape).toEqual([0, 4]);
  });

  it('out-of-range classes give all-zero rows; bad arguments are errors', () => {
    expect(rows(oneHot(tensor([5, -1], { dtype: 'int32' }), 3))).toEqual([[0, 0, 0], [0, 0, 0]]);
    expectKilnError(() => oneHot(tensor([1.5]), 3), 'oneHot', /int32/, /f32\[1\]/);
    expectKilnError(() => oneHot([1], 0), 'oneHot', /numClasses/);
  });

  it('is built from iota and eq (no gather) under jit', async () => {
    const { makeIR } = await import('../../src/index.js');
    const fn = makeIR((i: Tensor) => oneHot(i, 4))(tensor([1, 3], { dtype: 'int32' }));
    const prims = fn.body.ops.map((o) => o.prim);
    expect(prims).toContain('iota');
    expect(prims).toContain('eq');
    expect(prims).not.toContain('gather');
  });
});
