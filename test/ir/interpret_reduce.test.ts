// Reference interpreter, reductions and contractions: reduce_*, argmax/argmin, dot_general, conv
// (against a naive dilate-pad-correlate formula) and reduce_window.
import { describe, expect, it } from 'vitest';
import type { AttrMap } from '../../src/ir/ops.js';
import { bool, expectClose, f32, f64, i32, randoms, run1, values } from './interpret_helpers.js';

const iota = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

describe('reductions', () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  it('reduce_sum over chosen axes', () => {
    expect(values(run1('reduce_sum', [x], { axes: [0] }))).toEqual([5, 7, 9]);
    expect(values(run1('reduce_sum', [x], { axes: [1] }))).toEqual([6, 15]);
    expect(values(run1('reduce_sum', [x], { axes: [0, 1] }))).toEqual([21]);
    expect(values(run1('reduce_sum', [x], { axes: [] }))).toEqual([1, 2, 3, 4, 5, 6]);
    const y = f64([2, 3, 2], iota(12));
    expect(values(run1('reduce_sum', [y], { axes: [0, 2] }))).toEqual([1 + 2 + 7 + 8, 3 + 4 + 9 + 10, 5 + 6 + 11 + 12]);
  });
  it('reduce_prod, reduce_max, reduce_min', () => {
    expect(values(run1('reduce_prod', [x], { axes: [1] }))).toEqual([6, 120]);
    expect(values(run1('reduce_max', [f32([2, 3], [1, -5, 3, -4, -2, -6])], { axes: [1] }))).toEqual([3, -2]);
    expect(values(run1('reduce_min', [f32([2, 3], [1, -5, 3, -4, -2, -6])], { axes: [0] }))).toEqual([-4, -5, -6]);
  });
  it('float32 sums accumulate in f64 and round once', () => {
    expect(values(run1('reduce_sum', [f32([3], [1, 2 ** -24, 2 ** -24])], { axes: [0] }))).toEqual([1 + 2 ** -23]);
  });
  it('max and min propagate NaN wherever it sits', () => {
    expect(values(run1('reduce_max', [f32([2, 3], [NaN, 1, 2, 3, 4, NaN])], { axes: [1] }))).toEqual([NaN, NaN]);
    expect(values(run1('reduce_min', [f32([3], [1, NaN, -2])], { axes: [0] }))).toEqual([NaN]);
    expect(values(run1('reduce_sum', [f32([2], [1, NaN])], { axes: [0] }))).toEqual([NaN]);
  });
  it('int32 reductions wrap; bool max/min are any/all', () => {
    expect(values(run1('reduce_sum', [i32([3], [2147483647, 1, 5])], { axes: [0] }))).toEqual([-2147483643]);
    expect(values(run1('reduce_prod', [i32([3], [65536, 65536, 3])], { axes: [0] }))).toEqual([0]);
    expect(values(run1('reduce_prod', [i32([2], [65537, 65537])], { axes: [0] }))).toEqual([131073]); // (2^16+1)^2 mod 2^32
    expect(values(run1('reduce_max', [i32([3], [-7, -2147483648, -3])], { axes: [0] }))).toEqual([-3]);
    const b = bool([2, 2], [1, 0, 0, 0]);
    expect(values(run1('reduce_max', [b], { axes: [1] }))).toEqual([1, 0]);
    expect(values(run1('reduce_min', [bool([2, 2], [1, 1, 1, 0])], { axes: [1] }))).toEqual([1, 0]);
  });
  it('empty reductions give the identity', () => {
    const e = f32([0, 2], []);
    expect(values(run1('reduce_sum', [e], { axes: [0] }))).toEqual([0, 0]);
    expect(values(run1('reduce_prod', [e], { axes: [0] }))).toEqual([1, 1]);
    expect(values(run1('reduce_max', [e], { axes: [0] }))).toEqual([-Infinity, -Infinity]);
    expect(values(run1('reduce_min', [e], { axes: [0] }))).toEqual([Infinity, Infinity]);
    expect(values(run1('reduce_max', [i32([0], [])], { axes: [0] }))).toEqual([-2147483648]);
    expect(values(run1('reduce_min', [i32([0], [])], { axes: [0] }))).toEqual([2147483647]);
    expect(values(run1('reduce_max', [bool([0], [])], { axes: [0] }))).toEqual([0]);
    expect(values(run1('reduce_min', [bool([0], [])], { axes: [0] }))).toEqual([1]);
    expect(values(run1('reduce_sum', [f32([2, 0], [])], { axes: [0] }))).toEqual([]);
  });
  it('argmax/argmin: first index of the extreme, first NaN wins', () => {
    const y = f32([2, 4], [1, 3, 3, 2, 5, NaN, 7, NaN]);
    expect(values(run1('argmax', [y], { axis: 1 }))).toEqual([1, 1]);
    expect(values(run1('argmin', [y], { axis: 1 }))).toEqual([0, 1]);
    expect(values(run1('argmax', [f32([2, 2], [4, -1, 4, 9])], { axis: 0 }))).toEqual([0, 1]);
    expect(values(run1('argmin', [i32([3, 1], [5, -2, -2])], { axis: 0 }))).toEqual([1]);
    expect(values(run1('argmax', [bool([3], [0, 1, 1])], { axis: 0 }))).toEqual([1]);
    expect(values(run1('argmax', [f32([1, 0], [])], { axis: 0 }))).toEqual([]);
    expect(values(run1('argmin', [f32([2], [NaN, -1])], { axis: 0 }))).toEqual([0]);
  });
});

describe('dot_general', () => {
  it('matmul', () => {
    const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = f32([3, 2], [7, 8, 9, 10, 11, 12]);
    expect(values(run1('dot_general', [a, b], { contract: [[1], [0]], batch: [[], []] }))).toEqual([58, 64, 139, 154]);
    // contracting a's dim 0 with b's dim 1: a^T b^T = (b a)^T
    const c = run1('dot_general', [a, b], { contract: [[0], [1]], batch: [[], []] });
    expect(c.shape).toEqual([3, 3]);
    expect(values(c)).toEqual([39, 49, 59, 54, 68, 82, 69, 87, 105]);
  });
  it('batch dims come first, then lhs free, then rhs free', () => {
    // lhs [k=2, b=2, m=1], rhs [b=2, n=2, k=2]
    const a = f64([2, 2, 1], [1, 2, 3, 4]); // a[k,b,0]: k0: b0=1,b1=2; k1: b0=3,b1=4
    const b = f64([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]); // b[b,n,k]
    const out = run1('dot_general', [a, b], { contract: [[0], [2]], batch: [[1], [0]] });
    expect(out.shape).toEqual([2, 1, 2]);
    // batch 0: n0 = 1*1+3*2 = 7, n1 = 1*3+3*4 = 15; batch 1: n0 = 2*5+4*6 = 34, n1 = 2*7+4*8 = 46
    expect(values(out)).toEqual([7, 15, 34, 46]);
  });
  it('contracts several dims; an outer product contracts none', () => {
    const a = f32([2, 2], [1, 2, 3, 4]);
    const b = f32([2, 2], [5, 6, 7, 8]);
    expect(values(run1('dot_general', [a, b], { contract: [[0, 1], [0, 1]], batch: [[], []] }))).toEqual([70]);
    expect(values(run1('dot_general', [a, b], { contract: [[1, 0], [0, 1]], batch: [[], []] }))).toEqual([1 * 5 + 2 * 7 + 3 * 6 + 4 * 8]);
    const outer = run1('dot_general', [f32([2], [1, 2]), f32([3], [3, 4, 5])], { contract: [[], []], batch: [[], []] });
    expect(values(outer)).toEqual([3, 4, 5, 6, 8, 10]);
  });
  it('accumulates in f64, so f32 results round once', () => {
    const a = f32([1, 3], [1, 1, 1]);
    const b = f32([3, 1], [1, 2 ** -24, 2 ** -24]);
    expect(values(run1('dot_general', [a, b], { contract: [[1], [0]], batch: [[], []] }))).toEqual([1 + 2 ** -23]);
  });
  it('0 * NaN and 0 * Infinity poison the result', () => {
    const a = f32([1, 2], [0, 1]);
    expect(values(run1('dot_general', [a, f32([2, 2], [NaN, Infinity, 1, 1])], { contract: [[1], [0]], batch: [[], []] }))).toEqual([NaN, NaN]);
  });
  it('int32 contractions wrap', () => {
    const a = i32([1, 2], [65536, 3]);
    const b = i32([2, 1], [65536, 5]);
    expect(values(run1('dot_general', [a, b], { contract: [[1], [0]], batch: [[], []] }))).toEqual([15]); // 2^32 + 15
  });
  it('empty contraction gives zeros, empty free dims give empty results', () => {
    expect(values(run1('dot_general', [f32([2, 0], []), f32([0, 3], [])], { contract: [[1], [0]], batch: [[], []] }))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(values(run1('dot_general', [f32([0, 2], []), f32([2, 3], iota(6))], { contract: [[1], [0]], batch: [[], []] }))).toEqual([]);
  });
});

// ---- naive conv: dilate the input, pad/crop it, dilate the kernel, then correlate with a stride ----

interface Dense {
  shape: number[];
  data: number[];
}
const strides = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
function* indices(shape: number[]): Generator<number[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  const st = strides(shape);
  for (let f = 0; f < n; f++) yield shape.map((d, i) => Math.floor(f / st[i]) % d);
}
const at = (a: Dense, idx: number[]) => a.data[idx.reduce((s, v, i) => s + v * strides(a.shape)[i], 0)];
/** Remaps one dim: new size and, per new position, the old position or -1 (zero). */
function remapDim(a: Dense, dim: number, size: number, from: (j: number) => number, fill: number): Dense {
  const shape = [...a.shape];
  shape[dim] = size;
  const data: number[] = [];
  for (const idx of indices(shape)) {
    const j = from(idx[dim]);
    if (j < 0 || j >= a.shape[dim]) data.push(fill);
    else data.push(at(a, idx.map((v, i) => (i === dim ? j : v))));
  }
  return { shape, data };
}
const dilate = (a: Dense, dim: number, d: number, fill = 0) =>
  a.shape[dim] === 0 ? a : remapDim(a, dim, (a.shape[dim] - 1) * d + 1, (j) => (j % d === 0 ? j / d : -1), fill);
const padDim = (a: Dense, dim: number, lo: number, hi: number, fill = 0) => remapDim(a, dim, a.shape[dim] + lo + hi, (j) => j - lo, fill);

function naiveConv(x: Dense, w: Dense, attrs: AttrMap['conv']): Dense {
  const nd = x.shape.length - 2;
  let xp = x;
  let wd = w;
  for (let d = 0; d < nd; d++) {
    xp = padDim(dilate(xp, d + 2, attrs.lhsDilation[d]), d + 2, attrs.padding[d][0], attrs.padding[d][1]);
    wd = dilate(wd, d + 2, attrs.rhsDilation[d]);
  }
  const [N] = x.shape;
  const [O, Cg] = w.shape;
  const outSpatial = Array.from({ length: nd }, (_, d) => Math.floor((xp.shape[d + 2] - wd.shape[d + 2]) / attrs.stride[d]) + 1);
  const shape = [N, O, ...outSpatial];
  const data: number[] = [];
  for (const [n, o, ...p] of indices(shape)) {
    const g = Math.floor(o / (O / attrs.groups));
    let s = 0;
    for (let c = 0; c < Cg; c++) {
      for (const k of indices(wd.shape.slice(2))) {
        s += at(xp, [n, g * Cg + c, ...p.map((v, d) => v * attrs.stride[d] + k[d])]) * at(wd, [o, c, ...k]);
      }
    }
    data.push(s);
  }
  return { shape, data };
}

describe('conv', () => {
  it('1-d by hand: cross-correlation, no kernel flip', () => {
    const out = run1('conv', [f32([1, 1, 4], [1, 2, 3, 4]), f32([1, 1, 2], [1, -1])], {
      stride: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [1], groups: 1,
    });
    expect(values(out)).toEqual([-1, -1, -1]);
  });
  it('2-d by hand with padding', () => {
    const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const w = f32([1, 1, 2, 2], [1, 10, 100, 1000]);
    const out = run1('conv', [x, w], { stride: [1, 1], padding: [[1, 0], [0, 0]], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 1 });
    // padded rows: [0,0],[1,2],[3,4] -> windows: 100*1+1000*2 = 2100, 1+20+300+4000 = 4321
    expect(values(out)).toEqual([2100, 4321]);
  });

  const cases: { name: string; x: number[]; w: number[]; attrs: AttrMap['conv'] }[] = [
    { name: '1-d stride 2, padding', x: [2, 3, 9], w: [4, 3, 3], attrs: { stride: [2], padding: [[1, 2]], lhsDilation: [1], rhsDilation: [1], groups: 1 } },
    { name: '1-d kernel dilation', x: [1, 2, 10], w: [3, 2, 3], attrs: { stride: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [3], groups: 1 } },
    { name: '1-d lhs dilation (transposed conv)', x: [1, 2, 4], w: [2, 2, 3], attrs: { stride: [1], padding: [[2, 2]], lhsDilation: [2], rhsDilation: [1], groups: 1 } },
    { name: '1-d negative padding', x: [1, 1, 8], w: [1, 1, 2], attrs: { stride: [1], padding: [[-2, -1]], lhsDilation: [1], rhsDilation: [1], groups: 1 } },
    { name: '2-d groups', x: [2, 4, 5, 5], w: [6, 2, 3, 3], attrs: { stride: [1, 1], padding: [[1, 1], [1, 1]], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 2 } },
    { name: '2-d depthwise, stride, dilation', x: [1, 3, 7, 6], w: [3, 1, 2, 3], attrs: { stride: [2, 1], padding: [[0, 1], [2, 0]], lhsDilation: [1, 1], rhsDilation: [2, 1], groups: 3 } },
    { name: '2-d everything', x: [2, 2, 4, 3], w: [4, 1, 3, 2], attrs: { stride: [2, 3], padding: [[1, -1], [2, 1]], lhsDilation: [2, 3], rhsDilation: [1, 2], groups: 2 } },
    { name: '3-d', x: [1, 2, 4, 3, 5], w: [2, 2, 2, 2, 3], attrs: { stride: [1, 2, 1], padding: [[0, 1], [1, 0], [1, 1]], lhsDilation: [1, 1, 2], rhsDilation: [2, 1, 1], groups: 1 } },
    { name: 'empty batch', x: [0, 2, 5], w: [3, 2, 2], attrs: { stride: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [1], groups: 1 } },
  ];
  cases.forEach(({ name, x: xs, w: ws, attrs }, k) => {
    it(`matches the naive formula: ${name}`, () => {
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const x: Dense = { shape: xs, data: randoms(100 + k, size(xs)) };
      const w: Dense = { shape: ws, data: randoms(200 + k, size(ws)) };
      const got = run1('conv', [f64(xs, x.data), f64(ws, w.data)], attrs);
      const want = naiveConv(x, w, attrs);
      expect(got.shape).toEqual(want.shape);
      expectClose(values(got), want.data, 1e-12);
    });
  });
  it('float32 conv rounds the f64 sum once', () => {
    const x = f32([1, 3, 1], [1, 2 ** -24, 2 ** -24]);
    const w = f32([1, 3, 1], [1, 1, 1]);
    const out = run1('conv', [x, w], { stride: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [1], groups: 1 });
    expect(values(out)).toEqual([1 + 2 ** -23]);
  });
});

describe('reduce_window', () => {
  it('max pooling 2x2 stride 2', () => {
    const x = f32([1, 1, 4, 4], [1, 5, 2, 0.5, 3, 4, 8, 6, -1, -2, 7, 7.5, -3, -4, 9, -9]);
    const out = run1('reduce_window', [x], { kind: 'max', window: [2, 2], stride: [2, 2], padding: [[0, 0], [0, 0]] });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(values(out)).toEqual([5, 8, -1, 9]);
  });
  it('sum pooling with padding counts padding as 0', () => {
    const x = f32([3], [1, 2, 3]);
    expect(values(run1('reduce_window', [x], { kind: 'sum', window: [2], stride: [1], padding: [[1, 1]] }))).toEqual([1, 3, 5, 3]);
  });
  it('max padding is -Infinity, including all-padding windows', () => {
    const x = f32([2], [-5, -6]);
    expect(values(run1('reduce_window', [x], { kind: 'max', window: [2], stride: [2], padding: [[2, 0]] }))).toEqual([-Infinity, -5]);
    expect(values(run1('reduce_window', [i32([2], [-5, -6])], { kind: 'max', window: [2], stride: [2], padding: [[2, 0]] }))).toEqual([-2147483648, -5]);
  });
  it('only the trailing dims are windowed; NaN propagates through max', () => {
    const x = f64([2, 3], [1, NaN, 2, 4, 3, 6]);
    expect(values(run1('reduce_window', [x], { kind: 'max', window: [2], stride: [1], padding: [[0, 0]] }))).toEqual([NaN, NaN, 4, 6]);
    expect(values(run1('reduce_window', [x], { kind: 'sum', window: [1, 1], stride: [1, 1], padding: [[0, 0], [0, 0]] }))).toEqual([1, NaN, 2, 4, 3, 6]);
  });
  it('matches naive windows on a random 2-d case', () => {
    const shape = [2, 5, 6];
    const data = randoms(7, 60);
    const attrs: AttrMap['reduce_window'] = { kind: 'max', window: [3, 2], stride: [2, 3], padding: [[1, 1], [0, 2]] };
    const got = run1('reduce_window', [f64(shape, data)], attrs);
    for (const kind of ['max', 'sum'] as const) {
      const fill = kind === 'max' ? -Infinity : 0;
      const padded = padDim(padDim({ shape, data }, 1, 1, 1, fill), 2, 0, 2, fill);
      const want: number[] = [];
      const outShape = [2, Math.floor((7 - 3) / 2) + 1, Math.floor((8 - 2) / 3) + 1];
      for (const [l, i, j] of indices(outShape)) {
        let acc = fill;
        for (const [a, b] of indices([3, 2])) {
          const v = at(padded, [l, i * 2 + a, j * 3 + b]);
          acc = kind === 'max' ? Math.max(acc, v) : acc + v;
        }
        want.push(acc);
      }
      const out = kind === 'max' ? got : run1('reduce_window', [f64(shape, data)], { ...attrs, kind });
      expect(out.shape).toEqual(outShape);
      expectClose(values(out), want, 1e-14);
    }
  });
  it('int32 sums wrap', () => {
    expect(values(run1('reduce_window', [i32([2], [2147483647, 2])], { kind: 'sum', window: [2], stride: [1], padding: [[0, 0]] }))).toEqual([-2147483647]);
  });
});
