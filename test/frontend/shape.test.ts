import { describe, expect, it } from 'vitest';
import {
  reshape, flatten, squeeze, unsqueeze, expandDims, transpose, permute, swapaxes, broadcastTo, expand, concat, cat, stack,
  split, chunk, pad, flip, tile, clip, clamp, tensor, arange, zeros, jit, Tensor,
} from '../../src/index.js';
import { look, expectKilnError } from './api_helpers.js';

// a = [[1,2,3],[4,5,6]] (float32), b = 0..23 as int32 [2,3,4]
const a = () => tensor([[1, 2, 3], [4, 5, 6]]);
const b = () => reshape(arange(1, 25), [2, 3, 4]);

describe('reshape and flatten', () => {
  it('reshape with and without an inferred -1', () => {
    expect(look(reshape(a(), [3, 2]))).toEqual({ dtype: 'float32', shape: [3, 2], values: [[1, 2], [3, 4], [5, 6]] });
    expect(reshape(a(), [-1]).shape).toEqual([6]);
    expect(reshape(a(), [1, -1, 2]).shape).toEqual([1, 3, 2]);
    expect(reshape(tensor([7]), []).shape).toEqual([]);
    expect(reshape(zeros([0, 3]), [-1, 3]).shape).toEqual([0, 3]);
    const t = a();
    expect(reshape(t, [2, 3])).toBe(t); // same shape: no op
  });

  it('bad reshapes name the op, the tensor and the target', () => {
    expectKilnError(() => reshape(a(), [4, 2]), 'reshape', /f32\[2,3\]/, /\[4,2\]/);
    expectKilnError(() => reshape(a(), [-1, -1]), 'reshape', /at most one -1/);
    expectKilnError(() => reshape(a(), [4, -1]), 'reshape', /f32\[2,3\]/);
    expectKilnError(() => reshape(a(), [2, 1.5]), 'reshape');
    expectKilnError(() => reshape(zeros([0, 3]), [0, -1]), 'reshape'); // -1 is ambiguous next to 0
  });

  it('flatten: all dims, a range, negative dims, scalars', () => {
    expect(flatten(b()).shape).toEqual([24]);
    expect(flatten(b(), 1).shape).toEqual([2, 12]);
    expect(flatten(b(), 0, 1).shape).toEqual([6, 4]);
    expect(flatten(b(), -2, -1).shape).toEqual([2, 12]);
    expect(look(flatten(tensor(3)))).toEqual({ dtype: 'float32', shape: [1], values: [3] });
    expectKilnError(() => flatten(b(), 2, 1), 'flatten', /startDim/);
    expectKilnError(() => flatten(b(), 3), 'flatten', /axis 3/, /i32\[2,3,4\]/);
  });
});

describe('squeeze and unsqueeze', () => {
  it('squeeze all size-1 dims or the given ones', () => {
    const t = zeros([1, 3, 1, 2]);
    expect(squeeze(t).shape).toEqual([3, 2]);
    expect(squeeze(t, 0).shape).toEqual([3, 1, 2]);
    expect(squeeze(t, [-2, 0]).shape).toEqual([3, 2]);
    expect(squeeze(tensor([[5]])).shape).toEqual([]);
    expectKilnError(() => squeeze(t, 1), 'squeeze', /dimension 1/, /size 3/);
  });

  it('unsqueeze counts positions in the output; expandDims is the same op', () => {
    expect(unsqueeze(a(), 0).shape).toEqual([1, 2, 3]);
    expect(unsqueeze(a(), 2).shape).toEqual([2, 3, 1]);
    expect(unsqueeze(a(), -1).shape).toEqual([2, 3, 1]);
    expect(unsqueeze(a(), -3).shape).toEqual([1, 2, 3]);
    expect(expandDims(tensor(1), 0).shape).toEqual([1]);
    expect(look(unsqueeze(a(), 1))).toEqual({ dtype: 'float32', shape: [2, 1, 3], values: [[[1, 2, 3]], [[4, 5, 6]]] });
    expectKilnError(() => unsqueeze(a(), 3), 'unsqueeze', /axis 3/);
  });
});

describe('transpose, permute, swapaxes', () => {
  it('transpose reverses axes by default; perm may be negative', () => {
    expect(look(transpose(a()))).toEqual({ dtype: 'float32', shape: [3, 2], values: [[1, 4], [2, 5], [3, 6]] });
    expect(transpose(b()).shape).toEqual([4, 3, 2]);
    expect(transpose(b(), [0, -1, 1]).shape).toEqual([2, 4, 3]);
    expect(transpose(b(), [1, 0, 2]).tolist()).toEqual([[[1, 2, 3, 4], [13, 14, 15, 16]], [[5, 6, 7, 8], [17, 18, 19, 20]], [[9, 10, 11, 12], [21, 22, 23, 24]]]);
    expect(a().T.shape).toEqual([3, 2]);
    const v = tensor([1, 2]);
    expect(transpose(v)).toBe(v);
  });

  it('permute and swapaxes', () => {
    expect(permute(b(), [2, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(swapaxes(b(), 0, -1).shape).toEqual([4, 3, 2]);
    expect(swapaxes(b(), 0, -1).tolist()).toEqual(transpose(b(), [2, 1, 0]).tolist());
  });

  it('a bad permutation is an error', () => {
    expectKilnError(() => transpose(b(), [0, 0, 1]), 'transpose', /not a permutation/, /i32\[2,3,4\]/);
    expectKilnError(() => transpose(b(), [0, 1]), 'transpose', /not a permutation/);
    expectKilnError(() => permute(b(), [0, 1, 3]), 'transpose', /axis 3/);
  });
});

describe('broadcastTo and expand', () => {
  it('NumPy broadcasting; expand keeps -1 dims', () => {
    expect(look(broadcastTo(tensor([1, 2]), [2, 2]))).toEqual({ dtype: 'float32', shape: [2, 2], values: [[1, 2], [1, 2]] });
    expect(look(expand(tensor([[1], [2]]), [-1, 3]))).toEqual({ dtype: 'float32', shape: [2, 3], values: [[1, 1, 1], [2, 2, 2]] });
    expect(expand(tensor([[1], [2]]), [4, 2, -1]).shape).toEqual([4, 2, 1]);
    expect(broadcastTo(zeros([1, 3]), [0, 3]).shape).toEqual([0, 3]);
  });

  it('incompatible targets are errors', () => {
    expectKilnError(() => broadcastTo(a(), [3, 3]), 'broadcastTo');
    expectKilnError(() => expand(a(), [3]), 'expand', /fewer dimensions/);
  });
});

describe('concat, stack', () => {
  it('concat along an axis (negative too), promoting dtypes', () => {
    const c = concat([a(), tensor([[7, 8, 9]])]);
    expect(look(c)).toEqual({ dtype: 'float32', shape: [3, 3], values: [[1, 2, 3], [4, 5, 6], [7, 8, 9]] });
    expect(look(cat([a(), tensor([[0.5], [1.5]])], -1))).toEqual({ dtype: 'float32', shape: [2, 4], values: [[1, 2, 3, 0.5], [4, 5, 6, 1.5]] });
    const mixed = concat([tensor([1, 2], { dtype: 'int32' }), tensor([2.5])]);
    expect(look(mixed)).toEqual({ dtype: 'float32', shape: [3], values: [1, 2, 2.5] });
    expect(look(concat([tensor([true]), tensor([false])]))).toEqual({ dtype: 'bool', shape: [2], values: [true, false] });
  });

  it('size-0 pieces and single tensors', () => {
    expect(look(concat([zeros([0, 3]), a()]))).toEqual(look(a()));
    const t = a();
    expect(concat([t])).toBe(t);
  });

  it('concat errors: mismatched shapes, empty list, bad axis', () => {
    expectKilnError(() => concat([a(), tensor([[1, 2]])]), 'concat', /f32\[2,3\]/, /f32\[1,2\]/);
    expectKilnError(() => concat([a(), tensor([1, 2, 3])]), 'concat');
    expectKilnError(() => concat([]), 'concat', /at least one/);
    expectKilnError(() => concat([a(), a()], 2), 'concat', /axis 2/);
  });

  it('stack along a new axis', () => {
    const s = stack([tensor([1, 2]), tensor([3, 4]), tensor([5, 6])]);
    expect(look(s)).toEqual({ dtype: 'float32', shape: [3, 2], values: [[1, 2], [3, 4], [5, 6]] });
    expect(look(stack([tensor([1, 2]), tensor([3, 4])], -1))).toEqual({ dtype: 'float32', shape: [2, 2], values: [[1, 3], [2, 4]] });
    expect(stack([tensor(1), tensor(2)]).shape).toEqual([2]);
    expectKilnError(() => stack([tensor([1, 2]), tensor([1, 2, 3])]), 'stack', /f32\[2\]/, /f32\[3\]/);
  });
});

describe('split, chunk', () => {
  it('split by sizes or by count', () => {
    const [p, q] = split(a(), [1, 2], 1);
    expect(look(p)).toEqual({ dtype: 'float32', shape: [2, 1], values: [[1], [4]] });
    expect(look(q)).toEqual({ dtype: 'float32', shape: [2, 2], values: [[2, 3], [5, 6]] });
    expect(split(b(), 3, -2).map((t) => t.shape)).toEqual([[2, 1, 4], [2, 1, 4], [2, 1, 4]]);
    expect(split(b(), [0, 2, 0]).map((t) => t.shape)).toEqual([[0, 3, 4], [2, 3, 4], [0, 3, 4]]);
    expect(split(b(), 2)[1].tolist()).toEqual([(b().tolist() as number[][][])[1]]);
  });

  it('split errors', () => {
    expectKilnError(() => split(a(), 2, 1), 'split', /size 3/, /2 equal parts/);
    expectKilnError(() => split(a(), [1, 1], 1), 'split', /add up to 3/);
  });

  it('chunk: pieces of ceil(n / chunks), the last smaller', () => {
    expect(chunk(arange(5), 2).map((t) => t.tolist())).toEqual([[0, 1, 2], [3, 4]]);
    expect(chunk(arange(2), 4).map((t) => t.tolist())).toEqual([[0], [1]]);
    expect(chunk(a(), 3, -1).map((t) => t.shape)).toEqual([[2, 1], [2, 1], [2, 1]]);
    expect(chunk(zeros([0]), 2).map((t) => t.shape)).toEqual([[0]]);
    expectKilnError(() => chunk(a(), 0), 'chunk', /positive/);
  });
});

describe('pad, flip, tile', () => {
  it('pad takes one [before, after] pair per axis and a fill value; negative amounts crop', () => {
    expect(look(pad(a(), [[1, 0], [0, 2]], { value: -1 }))).toEqual({
      dtype: 'float32', shape: [3, 5], values: [[-1, -1, -1, -1, -1], [1, 2, 3, -1, -1], [4, 5, 6, -1, -1]],
    });
    expect(look(pad(tensor([1, 2, 3], { dtype: 'int32' }), [[2, 1]]))).toEqual({ dtype: 'int32', shape: [6], values: [0, 0, 1, 2, 3, 0] });
    expect(look(pad(a(), [[0, 0], [-1, 1]]))).toEqual({ dtype: 'float32', shape: [2, 3], values: [[2, 3, 0], [5, 6, 0]] });
    expect(pad(zeros([0, 2]), [[1, 1], [0, 0]]).shape).toEqual([2, 2]);
  });

  it('pad errors', () => {
    expectKilnError(() => pad(a(), [[1, 1]]), 'pad', /2 \[before, after\]/, /f32\[2,3\]/);
    expectKilnError(() => pad(a(), [[0, 0], [-2, -2]]), 'pad', /negative size/);
  });

  it('flip: all axes by default, or the given ones', () => {
    expect(flip(a()).tolist()).toEqual([[6, 5, 4], [3, 2, 1]]);
    expect(flip(a(), 1).tolist()).toEqual([[3, 2, 1], [6, 5, 4]]);
    expect(flip(a(), -2).tolist()).toEqual([[4, 5, 6], [1, 2, 3]]);
    expect(flip(zeros([0, 2]), 0).shape).toEqual([0, 2]);
  });

  it('tile repeats along axes (NumPy), adding leading axes when reps is longer', () => {
    expect(look(tile(tensor([1, 2]), [3]))).toEqual({ dtype: 'float32', shape: [6], values: [1, 2, 1, 2, 1, 2] });
    expect(look(tile(tensor([1, 2]), [2, 2]))).toEqual({ dtype: 'float32', shape: [2, 4], values: [[1, 2, 1, 2], [1, 2, 1, 2]] });
    expect(look(tile(a(), [2]))).toEqual({ dtype: 'float32', shape: [2, 6], values: [[1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6]] });
    expect(tile(a(), [0, 1]).shape).toEqual([0, 3]);
    expectKilnError(() => tile(a(), [-1]), 'tile');
  });
});

describe('clip / clamp', () => {
  it('both bounds, one bound, tensor bounds that broadcast', () => {
    expect(clip(a(), 2, 5).tolist()).toEqual([[2, 2, 3], [4, 5, 5]]);
    expect(clip(a(), null, 3).tolist()).toEqual([[1, 2, 3], [3, 3, 3]]);
    expect(clamp(a(), 4).tolist()).toEqual([[4, 4, 4], [4, 5, 6]]);
    expect(clip(a(), tensor([2, 1, 0]), tensor([[2], [5]])).tolist()).toEqual([[2, 2, 2], [4, 5, 5]]);
    expect(look(clip(tensor([-5, 0, 9], { dtype: 'int32' }), -1, 1))).toEqual({ dtype: 'int32', shape: [3], values: [-1, 0, 1] });
  });
});

describe('under jit', () => {
  it('shape ops trace and agree with eager', () => {
    const f = (t: Tensor) => [reshape(t, [3, -1]), transpose(t), concat([t, t], 1), stack([t, t]), pad(t, [[1, 0], [0, 1]]), flip(t, 0), tile(t, [2, 1]), ...split(t, [2, 1], 1)];
    const got = jit(f)(a());
    const want = f(a());
    got.forEach((g: Tensor, i: number) => expect(look(g)).toEqual(look(want[i])));
  });
});
