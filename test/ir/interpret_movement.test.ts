// Reference interpreter, data movement: constant, iota, reshape, broadcast, transpose, slice, pad
// (negative and interior), concat, flip, gather and scatter_add, checked against hand values.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/error.js';
import { evalPrimitive } from '../../src/ir/interpret.js';
import { bool, f32, f64, i32, run1, values } from './interpret_helpers.js';

const iota = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

describe('constant and iota', () => {
  it('constant: full values or a splat, cast to the dtype', () => {
    expect(values(run1('constant', [], { value: [1.5, -2, 3, 4.25], dtype: 'float32', shape: [2, 2] }))).toEqual([1.5, -2, 3, 4.25]);
    expect(values(run1('constant', [], { value: [7], dtype: 'int32', shape: [2, 3] }))).toEqual([7, 7, 7, 7, 7, 7]);
    expect(values(run1('constant', [], { value: [0.1], dtype: 'float32', shape: [] }))).toEqual([Math.fround(0.1)]);
    expect(values(run1('constant', [], { value: [2.5, 0, NaN], dtype: 'bool', shape: [3] }))).toEqual([1, 0, 1]);
    expect(values(run1('constant', [], { value: [3e9, -2.7], dtype: 'int32', shape: [2] }))).toEqual([2147483647, -2]);
    expect(values(run1('constant', [], { value: [5], dtype: 'float64', shape: [0, 4] }))).toEqual([]);
  });
  it('iota counts along one dimension', () => {
    expect(values(run1('iota', [], { shape: [2, 3], dimension: 1, dtype: 'int32' }))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(values(run1('iota', [], { shape: [2, 3], dimension: 0, dtype: 'float32' }))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(values(run1('iota', [], { shape: [2, 2, 2], dimension: 1, dtype: 'float64' }))).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(values(run1('iota', [], { shape: [3, 0], dimension: 0, dtype: 'int32' }))).toEqual([]);
  });
});

describe('reshape, broadcast, transpose', () => {
  it('reshape is row-major and copies', () => {
    const x = f32([2, 3], iota(6));
    const y = run1('reshape', [x], { shape: [3, 1, 2] });
    expect(values(y)).toEqual(iota(6));
    expect(values(run1('reshape', [f32([1], [4.5])], { shape: [] }))).toEqual([4.5]);
    expect(values(run1('reshape', [i32([0, 3], [])], { shape: [3, 0, 5] }))).toEqual([]);
  });
  it('broadcast_in_dim: dims map operand dims to output dims', () => {
    const row = f32([3], [1, 2, 3]);
    expect(values(run1('broadcast', [row], { shape: [2, 3], dims: [1] }))).toEqual([1, 2, 3, 1, 2, 3]);
    expect(values(run1('broadcast', [row], { shape: [3, 2], dims: [0] }))).toEqual([1, 1, 2, 2, 3, 3]);
    // A size-1 operand dim stretches; a scalar fills everything.
    const col = i32([2, 1], [5, -6]);
    expect(values(run1('broadcast', [col], { shape: [2, 3], dims: [0, 1] }))).toEqual([5, 5, 5, -6, -6, -6]);
    expect(values(run1('broadcast', [bool([], [1])], { shape: [2, 2], dims: [] }))).toEqual([1, 1, 1, 1]);
    expect(values(run1('broadcast', [row], { shape: [2, 0, 3], dims: [2] }))).toEqual([]);
    // [2,1] into dims [0,2] of [2,2,2]
    expect(values(run1('broadcast', [f32([2, 1], [1.5, 2.5])], { shape: [2, 2, 2], dims: [0, 2] }))).toEqual([1.5, 1.5, 1.5, 1.5, 2.5, 2.5, 2.5, 2.5]);
  });
  it('transpose: output dim i is input dim perm[i]', () => {
    const x = f32([2, 3], iota(6)); // [[1,2,3],[4,5,6]]
    expect(values(run1('transpose', [x], { perm: [1, 0] }))).toEqual([1, 4, 2, 5, 3, 6]);
    const y = f32([2, 3, 4], iota(24));
    const t = run1('transpose', [y], { perm: [2, 0, 1] });
    expect(t.shape).toEqual([4, 2, 3]);
    // t[k, i, j] = y[i, j, k] = 1 + 12i + 4j + k
    const want: number[] = [];
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) want.push(1 + 12 * i + 4 * j + k);
    expect(values(t)).toEqual(want);
    expect(values(run1('transpose', [f32([], [3.5])], { perm: [] }))).toEqual([3.5]);
  });
});

describe('slice, pad, concat, flip', () => {
  it('slice with start, limit and stride', () => {
    const x = f32([3, 5], iota(15));
    expect(values(run1('slice', [x], { start: [1, 0], limit: [3, 5], stride: [1, 2] }))).toEqual([6, 8, 10, 11, 13, 15]);
    expect(values(run1('slice', [x], { start: [0, 4], limit: [3, 5], stride: [2, 1] }))).toEqual([5, 15]);
    expect(values(run1('slice', [x], { start: [2, 2], limit: [2, 5], stride: [1, 1] }))).toEqual([]);
  });
  it('pad with low/high and a value', () => {
    const x = f32([2, 2], [1, 2, 3, 4]);
    expect(values(run1('pad', [x], { low: [1, 0], high: [0, 1], interior: [0, 0], value: -1 }))).toEqual([-1, -1, -1, 1, 2, -1, 3, 4, -1]);
  });
  it('pad interior inserts values between elements', () => {
    const x = i32([3], [7, 8, 9]);
    expect(values(run1('pad', [x], { low: [1], high: [2], interior: [2], value: 0 }))).toEqual([0, 7, 0, 0, 8, 0, 0, 9, 0, 0]);
  });
  it('negative padding crops (XLA)', () => {
    const x = f32([5], [1, 2, 3, 4, 5]);
    expect(values(run1('pad', [x], { low: [-2], high: [-1], interior: [0], value: 9 }))).toEqual([3, 4]);
    // interior then crop: [1,0,2,0,3,0,4,0,5] with low -3, high 1 -> [0,3,0,4,0,5,0]
    expect(values(run1('pad', [x], { low: [-3], high: [1], interior: [1], value: 0.5 }))).toEqual([0.5, 3, 0.5, 4, 0.5, 5, 0.5]);
    // low cropping that lands on an interior value
    expect(values(run1('pad', [f32([3], [1, 2, 3])], { low: [-1], high: [0], interior: [2], value: -1 }))).toEqual([-1, -1, 2, -1, -1, 3]);
    // 2-d: crop one row, pad one column
    const y = f32([3, 2], iota(6));
    expect(values(run1('pad', [y], { low: [-1, 1], high: [0, 0], interior: [0, 0], value: 0.25 }))).toEqual([0.25, 3, 4, 0.25, 5, 6]);
  });
  it('pad of an empty dim and to an empty result', () => {
    expect(values(run1('pad', [f32([0], [])], { low: [1], high: [1], interior: [3], value: 2.5 }))).toEqual([2.5, 2.5]);
    expect(values(run1('pad', [f32([2], [1, 2])], { low: [-1], high: [-1], interior: [0], value: 2.5 }))).toEqual([]);
  });
  it('pad value is cast to the dtype', () => {
    expect(values(run1('pad', [bool([1], [0])], { low: [1], high: [0], interior: [0], value: 3 }))).toEqual([1, 0]);
  });
  it('concat along an axis, including empty operands', () => {
    const a = f32([2, 2], [1, 2, 3, 4]);
    const b = f32([2, 1], [5, 6]);
    const e = f32([2, 0], []);
    expect(values(run1('concat', [a, e, b], { axis: 1 }))).toEqual([1, 2, 5, 3, 4, 6]);
    expect(values(run1('concat', [a, f32([1, 2], [7, 8])], { axis: 0 }))).toEqual([1, 2, 3, 4, 7, 8]);
    expect(values(run1('concat', [i32([1], [3])], { axis: 0 }))).toEqual([3]);
  });
  it('flip reverses the given axes', () => {
    const x = f32([2, 3], iota(6));
    expect(values(run1('flip', [x], { axes: [1] }))).toEqual([3, 2, 1, 6, 5, 4]);
    expect(values(run1('flip', [x], { axes: [0] }))).toEqual([4, 5, 6, 1, 2, 3]);
    expect(values(run1('flip', [x], { axes: [0, 1] }))).toEqual([6, 5, 4, 3, 2, 1]);
    expect(values(run1('flip', [x], { axes: [] }))).toEqual(iota(6));
  });
});

describe('gather and scatter_add', () => {
  it('gather is numpy take along an axis', () => {
    const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    expect(values(run1('gather', [x, i32([4], [2, 0, 2, 1])], { axis: 0 }))).toEqual([5, 6, 1, 2, 5, 6, 3, 4]);
    const g = run1('gather', [x, i32([2, 2], [1, 1, 0, 1])], { axis: 1 });
    expect(g.shape).toEqual([3, 2, 2]);
    expect(values(g)).toEqual([2, 2, 1, 2, 4, 4, 3, 4, 6, 6, 5, 6]);
    expect(values(run1('gather', [x, i32([], [1])], { axis: 0 }))).toEqual([3, 4]);
    expect(values(run1('gather', [x, i32([0], [])], { axis: 0 }))).toEqual([]);
  });
  it('gather rejects out-of-range indices', () => {
    const x = f32([5], [1, 2, 3, 4, 5]);
    expect(() => evalPrimitive('gather', [x, i32([2], [1, 7])], { axis: 0 })).toThrow(new KilnError('gather: index 7 is out of range for axis 0 of size 5'));
    expect(() => evalPrimitive('gather', [x, i32([1], [-1])], { axis: 0 })).toThrow(KilnError);
  });
  it('scatter_add accumulates duplicates into a copy of x', () => {
    const x = f32([4], [1, 2, 3, 4]);
    const out = run1('scatter_add', [x, i32([3], [1, 3, 1]), f32([3], [10, 20, 30])], { axis: 0 });
    expect(values(out)).toEqual([1, 42, 3, 24]);
    expect(values(x)).toEqual([1, 2, 3, 4]);
    const y = i32([2, 3], [1, 2, 3, 4, 5, 6]);
    const upd = i32([2, 2], [10, 20, 30, 40]);
    expect(values(run1('scatter_add', [y, i32([2], [2, 2]), upd], { axis: 1 }))).toEqual([1, 2, 33, 4, 5, 76]);
    expect(values(run1('scatter_add', [bool([2], [0, 1]), i32([2], [0, 0]), bool([2], [1, 1])], { axis: 0 }))).toEqual([1, 1]);
  });
  it('scatter_add accumulates in f64 and rounds once', () => {
    const x = f32([1], [1]);
    const upd = f32([2], [2 ** -24, 2 ** -24]); // each alone would round away
    expect(values(run1('scatter_add', [x, i32([2], [0, 0]), upd], { axis: 0 }))).toEqual([1 + 2 ** -23]);
  });
  it('scatter_add rejects out-of-range indices', () => {
    expect(() => evalPrimitive('scatter_add', [f64([2], [1, 2]), i32([1], [2]), f64([1], [1])], { axis: 0 })).toThrow(
      new KilnError('scatter_add: index 2 is out of range for axis 0 of size 2'),
    );
  });
});
