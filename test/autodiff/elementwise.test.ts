// Every differentiable elementwise primitive against finite differences, eager tape and IR pass,
// at several shapes and with NumPy broadcasting through the public binary ops.
import { describe, it } from 'vitest';
import type { BinaryOp, UnaryOp } from '../../src/ir/ops.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { binary, unary, where, astype, gt } from '../../src/frontend/ops/elementwise.js';
import { expectGrad, p, rand } from './helpers.js';

const SHAPES: number[][] = [[], [4], [2, 3]];

/** Input ranges that keep each op away from its kinks and poles. */
const UNARY: [UnaryOp, number, number][] = [
  ['neg', -2, 2], ['abs', 0.2, 2], ['exp', -2, 2], ['log', 0.3, 3], ['sqrt', 0.3, 3], ['rsqrt', 0.3, 3],
  ['sin', -3, 3], ['cos', -3, 3], ['tanh', -2, 2], ['sigmoid', -3, 3], ['relu', 0.1, 2], ['log1p', -0.5, 3],
  ['expm1', -2, 2], ['erf', -2, 2],
];

describe('unary primitives', () => {
  for (const [op, lo, hi] of UNARY) {
    it(`${op} at ${SHAPES.map((s) => `[${s}]`).join(' ')}`, () => {
      SHAPES.forEach((shape, k) => expectGrad((x) => unary(op, x), [rand(shape, 11 + k, lo, hi)]));
    });
  }
  it('abs and relu on negative inputs', () => {
    expectGrad((x) => unary('abs', x), [rand([5], 3, -2, -0.1)]);
    expectGrad((x) => unary('relu', x), [rand([2, 2], 4, -2, 2)]);
  });
});

const BINARY: [BinaryOp, [number, number], [number, number]][] = [
  ['add', [-2, 2], [-2, 2]], ['sub', [-2, 2], [-2, 2]], ['mul', [-2, 2], [-2, 2]], ['div', [-2, 2], [0.5, 2]],
  ['pow', [0.5, 2], [-1.5, 2]], ['max', [-2, 2], [-2, 2]], ['min', [-2, 2], [-2, 2]], ['mod', [1.1, 1.4], [0.5, 0.52]],
  ['atan2', [-2, 2], [0.3, 2]],
];

describe('binary primitives', () => {
  for (const [op, [alo, ahi], [blo, bhi]] of BINARY) {
    it(`${op}, same shapes and broadcast`, () => {
      const cases: [number[], number[]][] = [[[], []], [[3], [3]], [[2, 3], [3]], [[2, 1], [1, 3]], [[4, 1, 2], [3, 1]]];
      cases.forEach(([sa, sb], k) => expectGrad((a, b) => binary(op, a, b), [rand(sa, 21 + k, alo, ahi), rand(sb, 37 + k, blo, bhi)]));
    });
  }
  it('pow with a constant exponent keeps negative bases finite', () => {
    expectGrad((a) => binary('pow', a, 3), [rand([5], 8, -2, 2)]);
    expectGrad((a) => binary('pow', 2, a), [rand([2, 2], 9, -1, 1)]);
  });
  it('mul by a JS number and by itself', () => {
    expectGrad((a) => binary('mul', a, 2.5), [rand([3], 2)]);
    expectGrad((a) => binary('mul', a, a), [rand([2, 3], 5)]);
  });
});

describe('select and cast', () => {
  it('select routes the cotangent to the chosen branch (broadcast predicate)', () => {
    const mask = (x: Tensor) => gt(x, 0);
    expectGrad((a, b, c) => where(mask(c), a, b), [rand([2, 3], 1), rand([3], 2), rand([2, 1], 3)]);
  });
  it('cast between float widths passes the cotangent through', () => {
    expectGrad((a) => binary('mul', astype(astype(a, 'float32'), 'float64'), a), [rand([4], 6)], { tol: 1e-6 });
  });
  it('a cast from an integer has no gradient', () => {
    expectGrad((a, i) => binary('mul', a, astype(i, 'float64')), [rand([3], 6), p('cast', [rand([3], 7, 1, 5)], { dtype: 'int32' })]);
  });
});
