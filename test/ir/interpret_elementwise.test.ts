// Reference interpreter, elementwise ops: unary and binary math per dtype, comparisons, logic,
// cast and select, with NaN, wraparound and rounding edge cases against hand/NumPy values.
import { describe, expect, it } from 'vitest';
import { erf } from '../../src/ir/interpret_scalar.js';
import { bool, expectClose, f32, f64, i32, run1, values } from './interpret_helpers.js';

const X = [0.5, -1.25, 2, 3.5];
const P = [0.5, 1.25, 2, 3.5];

describe('unary float ops match NumPy (float64)', () => {
  const cases: [Parameters<typeof run1>[0], number[], number[]][] = [
    ['exp', X, [1.6487212707001282, 0.2865047968601901, 7.38905609893065, 33.11545195869231]],
    ['log', P, [-0.6931471805599453, 0.22314355131420976, 0.6931471805599453, 1.252762968495368]],
    ['sqrt', P, [0.7071067811865476, 1.118033988749895, 1.4142135623730951, 1.8708286933869707]],
    ['rsqrt', P, [1.414213562373095, 0.8944271909999159, 0.7071067811865475, 0.5345224838248488]],
    ['sin', X, [0.479425538604203, -0.9489846193555862, 0.9092974268256817, -0.35078322768961984]],
    ['cos', X, [0.8775825618903728, 0.3153223623952687, -0.4161468365471424, -0.9364566872907963]],
    ['tanh', X, [0.46211715726000974, -0.8482836399575129, 0.9640275800758169, 0.9981778976111987]],
    ['sigmoid', X, [0.6224593312018546, 0.22270013882530884, 0.8807970779778823, 0.9706877692486436]],
    ['log1p', X.map((v) => v / 8), [0.06062462181643484, -0.16989903679539747, 0.22314355131420976, 0.3629054936893685]],
    ['expm1', X.map((v) => v / 8), [0.06449445891785943, -0.14465467269257745, 0.2840254166877415, 0.5488302986341331]],
    ['erf', X, [0.5204998778130465, -0.9229001282564582, 0.9953222650189527, 0.9999992569016276]],
  ];
  // Inputs are exact in f32, so the f32 result must be exactly the rounded f64 one.
  for (const [op, input, want] of cases) {
    it(`${op} f64`, () => expectClose(values(run1(op, [f64([4], input)], {})), want, 1e-14));
    it(`${op} f32 is the f64 result rounded once`, () => {
      const out = run1(op, [f32([2, 2], input)], {});
      expect(values(out)).toEqual(want.map((w, i) => (Number.isFinite(w) ? Math.fround(w) : want[i])));
    });
  }
});

describe('unary edge cases', () => {
  it('neg, abs, floor, ceil on floats', () => {
    const x = f32([5], [1.5, -2.5, -0.25, 7, -7]);
    expect(values(run1('neg', [x], {}))).toEqual([-1.5, 2.5, 0.25, -7, 7]);
    expect(values(run1('abs', [x], {}))).toEqual([1.5, 2.5, 0.25, 7, 7]);
    expect(values(run1('floor', [x], {}))).toEqual([1, -3, -1, 7, -7]);
    expect(values(run1('ceil', [x], {}))).toEqual([2, -2, -0, 7, -7]);
  });
  it('round is half to even', () => {
    const x = f64([10], [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, -3.5, 1e17]);
    expect(values(run1('round', [x], {}))).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -4, 1e17]);
  });
  it('sign keeps NaN and signed zero', () => {
    const x = f32([5], [3.5, -0.25, 0, -0, NaN]);
    expect(values(run1('sign', [x], {}))).toEqual([1, -1, 0, -0, NaN]);
    expect(values(run1('sign', [i32([3], [-7, 9, 0])], {}))).toEqual([-1, 1, 0]);
  });
  it('relu is max(x, 0) and propagates NaN', () => {
    expect(values(run1('relu', [f32([4], [1.5, -2, NaN, -0])], {}))).toEqual([1.5, 0, NaN, 0]);
    expect(values(run1('relu', [i32([3], [-3, 4, -2147483648])], {}))).toEqual([0, 4, 0]);
  });
  it('sigmoid is stable for large |x|', () => {
    const out = values(run1('sigmoid', [f64([4], [800, -800, 40, -40])], {}));
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(0);
    expect(out[2]).toBe(1);
    expectClose([out[3]], [4.248354255291589e-18], 1e-15);
    expect(out[3] / 4.248354255291589e-18).toBeCloseTo(1, 12);
  });
  it('erf matches float64 references, is odd, saturates and keeps NaN', () => {
    // Python math.erf values.
    const refs: [number, number][] = [
      [0.1, 0.1124629160182849], [1, 0.8427007929497149], [2.5, 0.999593047982555], [3, 0.9999779095030014],
      [4, 0.9999999845827421], [5, 0.9999999999984626], [1e-8, 1.1283791670955126e-8], [-0.3, -0.3286267594591274],
    ];
    for (const [x, want] of refs) expect(Math.abs(erf(x) - want) / Math.abs(want)).toBeLessThan(1e-14);
    expect(erf(-7)).toBe(-1);
    expect(erf(Infinity)).toBe(1);
    expect(erf(NaN)).toBeNaN();
  });
  it('log1p and expm1 keep tiny arguments', () => {
    expect(values(run1('log1p', [f64([1], [1e-12])], {}))[0] / (1e-12 - 5e-25)).toBeCloseTo(1, 15);
    expect(values(run1('expm1', [f64([1], [1e-12])], {}))[0] / (1e-12 + 5e-25)).toBeCloseTo(1, 15);
  });
  it('exp/log/sqrt IEEE specials', () => {
    expect(values(run1('log', [f32([3], [-1, 0, Infinity])], {}))).toEqual([NaN, -Infinity, Infinity]);
    expect(values(run1('sqrt', [f32([2], [-4, Infinity])], {}))).toEqual([NaN, Infinity]);
    expect(values(run1('exp', [f32([2], [100, -Infinity])], {}))).toEqual([Infinity, 0]); // overflows f32
    expect(values(run1('rsqrt', [f32([1], [0])], {}))).toEqual([Infinity]);
  });
  it('isnan gives bool for every dtype', () => {
    const out = run1('isnan', [f32([3], [NaN, 1.5, Infinity])], {});
    expect(out.dtype).toBe('bool');
    expect(values(out)).toEqual([1, 0, 0]);
    expect(values(run1('isnan', [i32([2], [3, -4])], {}))).toEqual([0, 0]);
  });
  it('int32 neg and abs wrap at the minimum', () => {
    const x = i32([3], [-2147483648, 5, -6]);
    expect(values(run1('neg', [x], {}))).toEqual([-2147483648, -5, 6]);
    expect(values(run1('abs', [x], {}))).toEqual([-2147483648, 5, 6]);
    expect(values(run1('floor', [x], {}))).toEqual([-2147483648, 5, -6]);
    expect(values(run1('round', [x], {}))).toEqual([-2147483648, 5, -6]);
  });
  it('not is logical on bool and bitwise on int32', () => {
    expect(values(run1('not', [bool([3], [1, 0, 1])], {}))).toEqual([0, 1, 0]);
    expect(values(run1('not', [i32([3], [0x0f0f, -1, 5])], {}))).toEqual([~0x0f0f, 0, -6]);
  });
  it('bool unary arithmetic stays 0/1', () => {
    expect(values(run1('neg', [bool([2], [1, 0])], {}))).toEqual([1, 0]);
    expect(values(run1('abs', [bool([2], [1, 0])], {}))).toEqual([1, 0]);
  });
  it('size-0 and rank-0 operands', () => {
    expect(values(run1('exp', [f32([0, 3], [])], {}))).toEqual([]);
    expect(values(run1('neg', [f32([], [2.5])], {}))).toEqual([-2.5]);
  });
});

describe('binary ops', () => {
  it('float arithmetic rounds once to f32', () => {
    const a = f32([4], [0.1, 1.5, -2.25, 3]);
    const b = f32([4], [0.2, -0.5, 4, 7]);
    const fa = values(a);
    const fb = values(b);
    expect(values(run1('add', [a, b], {}))).toEqual(fa.map((x, i) => Math.fround(x + fb[i])));
    expect(values(run1('sub', [a, b], {}))).toEqual([Math.fround(fa[0] - fb[0]), 2, -6.25, -4]);
    expect(values(run1('mul', [a, b], {}))).toEqual([Math.fround(fa[0] * fb[0]), -0.75, -9, 21]);
    expect(values(run1('div', [a, b], {}))).toEqual([Math.fround(fa[0] / fb[0]), -3, -0.5625, Math.fround(3 / 7)]);
  });
  it('float div by zero is IEEE', () => {
    expect(values(run1('div', [f64([3], [1, -1, 0]), f64([3], [0, 0, 0])], {}))).toEqual([Infinity, -Infinity, NaN]);
  });
  it('float pow follows C99 pow', () => {
    const out = values(run1('pow', [f64([6], [2, -8, 1.5, 4, 1, -1]), f64([6], [0.5, 1 / 3, -2, 2.5, NaN, Infinity])], {}));
    expectClose(out, [Math.SQRT2, NaN, 0.4444444444444444, 32, 1, 1], 1e-15);
    expect(values(run1('pow', [f64([1], [NaN]), f64([1], [0])], {}))).toEqual([1]);
  });
  it('max/min propagate NaN', () => {
    const a = f32([4], [1, NaN, 3, -2]);
    const b = f32([4], [NaN, 2, 1, -5]);
    expect(values(run1('max', [a, b], {}))).toEqual([NaN, NaN, 3, -2]);
    expect(values(run1('min', [a, b], {}))).toEqual([NaN, NaN, 1, -5]);
  });
  it('float mod takes the sign of the divisor', () => {
    const out = run1('mod', [f64([6], [5.5, -5.5, -4, 4, 7.25, 3]), f64([6], [-2, 2, 2, -2, 3, 0])], {});
    expect(values(out)).toEqual([-0.5, 0.5, 0, -0, 1.25, NaN]);
  });
  it('atan2 covers all quadrants', () => {
    const out = values(run1('atan2', [f64([4], [1, -1, 1.5, -2]), f64([4], [2, -3, -0.5, 1.5])], {}));
    expectClose(out, [0.4636476090008061, -2.819842099193151, 1.8925468811915387, -0.9272952180016122], 1e-15);
  });
  it('int32 add/sub/mul wrap', () => {
    const a = i32([3], [2147483647, -2147483648, 65536]);
    const b = i32([3], [1, 1, 65537]);
    expect(values(run1('add', [a, b], {}))).toEqual([-2147483648, -2147483647, 131073]);
    expect(values(run1('sub', [a, b], {}))).toEqual([2147483646, 2147483647, -1]);
    expect(values(run1('mul', [a, b], {}))).toEqual([2147483647, -2147483648, 65536]); // 65536*65537 = 2^32 + 2^16
  });
  it('int32 div and mod are floor division/modulo, zero divisor gives 0', () => {
    const a = i32([8], [7, -7, 7, -7, 5, 3, -2147483648, -6]);
    const b = i32([8], [2, 2, -2, -2, 0, 3, -1, 3]);
    expect(values(run1('div', [a, b], {}))).toEqual([3, -4, -4, 3, 0, 1, -2147483648, -2]);
    expect(values(run1('mod', [a, b], {}))).toEqual([1, 1, -1, -1, 0, 0, 0, 0]);
  });
  it('int32 pow is integer power with wraparound', () => {
    const a = i32([8], [3, -2, 2, 7, 1, -1, -1, 0]);
    const b = i32([8], [4, 3, 31, -1, -5, -3, -4, 0]);
    expect(values(run1('pow', [a, b], {}))).toEqual([81, -8, -2147483648, 0, 1, -1, 1, 1]);
    expect(values(run1('pow', [i32([1], [3]), i32([1], [21])], {}))).toEqual([10460353203 | 0]);
  });
  it('int32 max/min', () => {
    expect(values(run1('max', [i32([2], [-3, 9]), i32([2], [4, -9])], {}))).toEqual([4, 9]);
    expect(values(run1('min', [i32([2], [-3, 9]), i32([2], [4, -9])], {}))).toEqual([-3, -9]);
  });
  it('comparisons give bool, NaN compares unequal', () => {
    const a = f32([4], [1, 2, NaN, -0]);
    const b = f32([4], [2, 2, NaN, 0]);
    const cmp = (op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge') => {
      const out = run1(op, [a, b], {});
      expect(out.dtype).toBe('bool');
      return values(out);
    };
    expect(cmp('eq')).toEqual([0, 1, 0, 1]);
    expect(cmp('ne')).toEqual([1, 0, 1, 0]);
    expect(cmp('lt')).toEqual([1, 0, 0, 0]);
    expect(cmp('le')).toEqual([1, 1, 0, 1]);
    expect(cmp('gt')).toEqual([0, 0, 0, 0]);
    expect(cmp('ge')).toEqual([0, 1, 0, 1]);
    expect(values(run1('lt', [i32([2], [-5, 5]), i32([2], [3, 3])], {}))).toEqual([1, 0]);
    expect(values(run1('eq', [bool([2], [1, 0]), bool([2], [1, 1])], {}))).toEqual([1, 0]);
  });
  it('and/or: logical on bool, bitwise on int32', () => {
    expect(values(run1('and', [bool([4], [1, 1, 0, 0]), bool([4], [1, 0, 1, 0])], {}))).toEqual([1, 0, 0, 0]);
    expect(values(run1('or', [bool([4], [1, 1, 0, 0]), bool([4], [1, 0, 1, 0])], {}))).toEqual([1, 1, 1, 0]);
    expect(values(run1('and', [i32([2], [12, -1]), i32([2], [10, 7])], {}))).toEqual([8, 7]);
    expect(values(run1('or', [i32([2], [12, -8]), i32([2], [10, 3])], {}))).toEqual([14, -5]);
  });
  it('bool arithmetic is int arithmetic then != 0', () => {
    const a = bool([4], [1, 1, 0, 0]);
    const b = bool([4], [1, 0, 1, 0]);
    expect(values(run1('add', [a, b], {}))).toEqual([1, 1, 1, 0]);
    expect(values(run1('mul', [a, b], {}))).toEqual([1, 0, 0, 0]);
    expect(values(run1('sub', [a, b], {}))).toEqual([0, 1, 1, 0]);
    expect(values(run1('max', [a, b], {}))).toEqual([1, 1, 1, 0]);
  });
});

describe('cast', () => {
  it('float -> int32 truncates toward zero and saturates, NaN -> 0', () => {
    const x = f64([8], [2.9, -2.9, 1e10, -1e10, NaN, Infinity, -Infinity, 2147483647.5]);
    expect(values(run1('cast', [x], { dtype: 'int32' }))).toEqual([2, -2, 2147483647, -2147483648, 0, 2147483647, -2147483648, 2147483647]);
  });
  it('anything -> bool is x != 0 (NaN is true)', () => {
    expect(values(run1('cast', [f32([4], [0.5, 0, -0, NaN])], { dtype: 'bool' }))).toEqual([1, 0, 0, 1]);
    expect(values(run1('cast', [i32([3], [-3, 0, 256])], { dtype: 'bool' }))).toEqual([1, 0, 1]);
  });
  it('bool -> numbers is 0/1, int -> f32 rounds, f64 -> f32 rounds', () => {
    expect(values(run1('cast', [bool([2], [1, 0])], { dtype: 'float32' }))).toEqual([1, 0]);
    expect(values(run1('cast', [bool([2], [1, 0])], { dtype: 'int32' }))).toEqual([1, 0]);
    expect(values(run1('cast', [i32([1], [16777217])], { dtype: 'float32' }))).toEqual([16777216]);
    expect(values(run1('cast', [f64([1], [0.1])], { dtype: 'float32' }))).toEqual([Math.fround(0.1)]);
    const widened = run1('cast', [f32([1], [0.1])], { dtype: 'float64' });
    expect(widened.data).toBeInstanceOf(Float64Array);
    expect(values(widened)).toEqual([Math.fround(0.1)]);
  });
});

describe('select', () => {
  it('picks per element, any dtype', () => {
    const p = bool([2, 2], [1, 0, 0, 1]);
    expect(values(run1('select', [p, f32([2, 2], [1, 2, 3, 4]), f32([2, 2], [-1, -2, -3, -4])], {}))).toEqual([1, -2, -3, 4]);
    expect(values(run1('select', [p, i32([2, 2], [5, 6, 7, 8]), i32([2, 2], [9, 10, 11, 12])], {}))).toEqual([5, 10, 11, 8]);
    expect(values(run1('select', [bool([0], []), f32([0], []), f32([0], [])], {}))).toEqual([]);
  });
  it('selects NaN through untouched', () => {
    expect(values(run1('select', [bool([2], [1, 0]), f32([2], [NaN, 1]), f32([2], [2, NaN])], {}))).toEqual([NaN, NaN]);
  });
});
