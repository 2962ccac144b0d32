// dot_general (any dimension numbers), conv (strides, padding, both dilations, groups) and
// reduce_window (max and sum, overlapping and padded windows) against finite differences.
import { describe, it } from 'vitest';
import type { AttrMap } from '../../src/ir/ops.js';
import { expectGrad, p, rand } from './helpers.js';

const dg = (contract: [number[], number[]], batch: [number[], number[]] = [[], []]) => ({ contract, batch });

describe('dot_general', () => {
  it('matrix-vector, matrix-matrix, outer product', () => {
    expectGrad((a, b) => p('dot_general', [a, b], dg([[1], [0]])), [rand([2, 3], 1), rand([3], 2)]);
    expectGrad((a, b) => p('dot_general', [a, b], dg([[1], [0]])), [rand([2, 3], 3), rand([3, 4], 4)]);
    expectGrad((a, b) => p('dot_general', [a, b], dg([[], []])), [rand([2], 5), rand([3], 6)]);
  });
  it('transposed contractions and several contracting dims', () => {
    expectGrad((a, b) => p('dot_general', [a, b], dg([[0], [1]])), [rand([3, 2], 7), rand([4, 3], 8)]);
    expectGrad((a, b) => p('dot_general', [a, b], dg([[2, 0], [0, 2]])), [rand([2, 3, 4], 9), rand([4, 5, 2], 10)]);
  });
  it('batch dims anywhere', () => {
    expectGrad((a, b) => p('dot_general', [a, b], dg([[2], [1]], [[0], [0]])), [rand([2, 3, 4], 11), rand([2, 4, 5], 12)]);
    expectGrad((a, b) => p('dot_general', [a, b], dg([[0], [2]], [[2, 1], [0, 1]])), [rand([3, 2, 4], 13), rand([4, 2, 3, 2], 14)]);
  });
});

const conv = (o: Partial<AttrMap['conv']> & { nd: number }): AttrMap['conv'] => ({
  stride: o.stride ?? new Array(o.nd).fill(1),
  padding: o.padding ?? new Array(o.nd).fill([0, 0]),
  lhsDilation: o.lhsDilation ?? new Array(o.nd).fill(1),
  rhsDilation: o.rhsDilation ?? new Array(o.nd).fill(1),
  groups: o.groups ?? 1,
});

describe('conv', () => {
  it('1-d: plain, strided, padded, dilated', () => {
    const c = (a: AttrMap['conv']) => (x: any, w: any) => p('conv', [x, w], a);
    expectGrad(c(conv({ nd: 1 })), [rand([2, 3, 7], 1), rand([4, 3, 3], 2)]);
    expectGrad(c(conv({ nd: 1, stride: [2], padding: [[1, 2]] })), [rand([1, 2, 8], 3), rand([3, 2, 3], 4)]);
    expectGrad(c(conv({ nd: 1, rhsDilation: [2], padding: [[2, 0]] })), [rand([2, 2, 6], 5), rand([2, 2, 2], 6)]);
    expectGrad(c(conv({ nd: 1, lhsDilation: [2], padding: [[1, 1]], stride: [3] })), [rand([1, 2, 5], 7), rand([2, 2, 3], 8)]);
  });
  it('2-d: stride, asymmetric padding, both dilations', () => {
    const a = conv({ nd: 2, stride: [2, 1], padding: [[1, 0], [0, 2]], rhsDilation: [1, 2] });
    expectGrad((x, w) => p('conv', [x, w], a), [rand([2, 2, 5, 4], 9), rand([3, 2, 2, 2], 10)]);
    const b = conv({ nd: 2, lhsDilation: [2, 1], stride: [1, 2], padding: [[0, 1], [1, 1]] });
    expectGrad((x, w) => p('conv', [x, w], b), [rand([1, 1, 3, 4], 11), rand([2, 1, 2, 3], 12)]);
  });
  it('groups > 1 (grouped and depthwise)', () => {
    const g2 = conv({ nd: 2, groups: 2, stride: [1, 2], padding: [[1, 1], [0, 1]] });
    expectGrad((x, w) => p('conv', [x, w], g2), [rand([2, 4, 4, 4], 13), rand([6, 2, 3, 2], 14)]);
    const dw = conv({ nd: 1, groups: 3, padding: [[1, 1]] });
    expectGrad((x, w) => p('conv', [x, w], dw), [rand([1, 3, 5], 15), rand([3, 1, 3], 16)]);
  });
  it('a window that skips trailing inputs (floor division of the output size)', () => {
    expectGrad((x, w) => p('conv', [x, w], conv({ nd: 1, stride: [3] })), [rand([1, 1, 8], 17), rand([1, 1, 2], 18)]);
  });
});

const win = (kind: 'max' | 'sum', window: number[], stride: number[], padding: [number, number][]) => ({ kind, window, stride, padding });

describe('reduce_window', () => {
  for (const kind of ['max', 'sum'] as const) {
    it(`${kind}: non-overlapping, overlapping, strided, padded`, () => {
      expectGrad((x) => p('reduce_window', [x], win(kind, [2, 2], [2, 2], [[0, 0], [0, 0]])), [rand([2, 4, 4], 19)]);
      expectGrad((x) => p('reduce_window', [x], win(kind, [3], [1], [[0, 0]])), [rand([2, 6], 20)]);
      expectGrad((x) => p('reduce_window', [x], win(kind, [3, 2], [2, 1], [[1, 1], [0, 1]])), [rand([1, 2, 5, 4], 21)]);
      expectGrad((x) => p('reduce_window', [x], win(kind, [2], [3], [[0, 0]])), [rand([7], 22)]);
    });
  }
});
