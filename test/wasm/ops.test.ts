// Every primitive on the 'wasm' device against the reference interpreter: random inputs from fixed
// seeds, float32/int32/bool, size-0 and size-1 edges, special float values.
import { describe, expect, it } from 'vitest';
import { hostArray } from '../../src/ir/array.js';
import type { DType } from '../../src/ir/dtype.js';
import { BINARY_OPS, FLOAT_UNARY_OPS, UNARY_OPS } from '../../src/ir/ops.js';
import type { BinaryOp, UnaryOp } from '../../src/ir/ops.js';
import { SPECIAL, checkPrimitive, randomArray, upload, wasm } from './helpers.js';

const SHAPES = [[], [1], [7], [3, 5], [0, 3], [2, 3, 9]];
const f32 = (shape: number[], data: number[]) => hostArray('float32', shape, data);

describe('elementwise unary', () => {
  it('float ops on random values and special values', () => {
    for (const op of UNARY_OPS) {
      if (op === 'not') continue;
      SHAPES.forEach((shape, i) => checkPrimitive(op, [randomArray('float32', shape, 10 + i)], {}, { rtol: 3e-7 * 8 }));
      checkPrimitive(op, [f32([SPECIAL.length], SPECIAL)], {}, { rtol: 3e-7 * 8 });
    }
  });

  it('int32 and bool ops', () => {
    for (const dtype of ['int32', 'bool'] as DType[]) {
      for (const op of UNARY_OPS) {
        if (FLOAT_UNARY_OPS.has(op)) continue;
        checkPrimitive(op as UnaryOp, [randomArray(dtype, [37], 3)]);
        checkPrimitive(op as UnaryOp, [randomArray(dtype, [], 4)]);
      }
    }
  });
});

describe('elementwise binary', () => {
  const floatOps = BINARY_OPS.filter((op) => op !== 'and' && op !== 'or');
  it('float ops, including special values on both sides', () => {
    for (const op of floatOps) {
      SHAPES.forEach((shape, i) => checkPrimitive(op, [randomArray('float32', shape, 20 + i), randomArray('float32', shape, 40 + i)], {}, { rtol: 3e-6 }));
      const a: number[] = [];
      const b: number[] = [];
      for (const x of SPECIAL) for (const y of SPECIAL) {
        a.push(x);
        b.push(y);
      }
      checkPrimitive(op, [f32([a.length], a), f32([b.length], b)], {}, { rtol: 3e-6 });
    }
  });

  it('pow on integer exponents, negative bases and the C99 special cases', () => {
    const xs = [-2, -1.5, -1, -0, 0, 0.5, 1, 2, 10, Infinity, -Infinity, NaN];
    const ys = [-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 30, -Infinity, Infinity, NaN];
    const a: number[] = [];
    const b: number[] = [];
    for (const x of xs) for (const y of ys) {
      a.push(x);
      b.push(y);
    }
    checkPrimitive('pow', [f32([a.length], a), f32([b.length], b)], {}, { rtol: 3e-6 });
  });

  it('int32 ops wrap, divide by floor, and never trap (x/0, INT_MIN/-1)', () => {
    for (const op of BINARY_OPS) {
      if (op === 'atan2') continue;
      checkPrimitive(op as BinaryOp, [randomArray('int32', [61], 5), randomArray('int32', [61], 6)]);
      checkPrimitive(op as BinaryOp, [hostArray('int32', [4], [-2147483648, 7, -7, 0]), hostArray('int32', [4], [-1, 0, 2, 0])]);
    }
  });

  it('bool ops are int ops on 0/1 then != 0', () => {
    const a = hostArray('bool', [4], [0, 0, 1, 1]);
    const b = hostArray('bool', [4], [0, 1, 0, 1]);
    for (const op of BINARY_OPS) {
      if (op === 'atan2') continue;
      checkPrimitive(op as BinaryOp, [a, b]);
    }
  });
});

describe('reductions', () => {
  const x = randomArray('float32', [3, 4, 5], 7);
  const axesList = [[], [0], [1], [2], [0, 2], [1, 2], [0, 1, 2]];
  it('sum/prod/max/min over every axis set, float and int', () => {
    for (const op of ['reduce_sum', 'reduce_prod', 'reduce_max', 'reduce_min'] as const) {
      for (const axes of axesList) {
        checkPrimitive(op, [x], { axes }, { rtol: 1e-5, atol: 1e-5 });
        checkPrimitive(op, [randomArray('int32', [3, 4, 5], 8)], { axes });
      }
    }
  });
  it('bool max/min, empty axes and NaN propagation', () => {
    checkPrimitive('reduce_max', [randomArray('bool', [4, 6], 9)], { axes: [1] });
    checkPrimitive('reduce_min', [randomArray('bool', [4, 6], 9)], { axes: [0] });
    checkPrimitive('reduce_sum', [hostArray('float32', [2, 0], [])], { axes: [1] });
    checkPrimitive('reduce_max', [hostArray('float32', [0, 3], [])], { axes: [0] });
    checkPrimitive('reduce_prod', [hostArray('int32', [2, 0], [])], { axes: [1] });
    checkPrimitive('reduce_max', [f32([2, 3], [1, NaN, 2, 3, 4, 5])], { axes: [1] });
    checkPrimitive('reduce_min', [f32([2, 3], [1, NaN, 2, 3, 4, 5])], { axes: [1] });
  });
  it('long rows vectorize and stay accurate', () => {
    checkPrimitive('reduce_sum', [randomArray('float32', [3, 1001], 11)], { axes: [1] }, { rtol: 1e-5, atol: 1e-4 });
    checkPrimitive('reduce_max', [randomArray('float32', [3, 1001], 12)], { axes: [1] });
    checkPrimitive('reduce_sum', [randomArray('int32', [3, 1001], 13)], { axes: [1] });
  });
  it('argmax/argmin take the first extreme, NaN first', () => {
    checkPrimitive('argmax', [f32([2, 4], [1, 3, 3, 2, NaN, 5, NaN, 1])], { axis: 1 });
    checkPrimitive('argmin', [f32([2, 4], [1, 3, 1, 2, 4, -5, -5, 1])], { axis: 1 });
    checkPrimitive('argmax', [randomArray('float32', [5, 6, 7], 14)], { axis: 1 });
    checkPrimitive('argmin', [randomArray('int32', [5, 6], 15)], { axis: 0 });
    checkPrimitive('argmax', [randomArray('bool', [5, 6], 16)], { axis: 1 });
  });
});

describe('movement as index arithmetic', () => {
  const x = randomArray('float32', [2, 3, 4], 30);
  it('reshape, broadcast, transpose, flip', () => {
    checkPrimitive('reshape', [x], { shape: [6, 4] });
    checkPrimitive('reshape', [x], { shape: [4, 3, 2] });
    checkPrimitive('broadcast', [randomArray('float32', [3, 1], 31)], { shape: [2, 3, 5], dims: [1, 2] });
    checkPrimitive('broadcast', [randomArray('int32', [], 32)], { shape: [4, 2], dims: [] });
    for (const perm of [[0, 2, 1], [2, 0, 1], [1, 0, 2], [2, 1, 0]]) checkPrimitive('transpose', [x], { perm });
    checkPrimitive('transpose', [randomArray('bool', [5, 7], 33)], { perm: [1, 0] });
    checkPrimitive('flip', [x], { axes: [0, 2] });
  });
  it('slice with strides, pad with negative and interior padding', () => {
    checkPrimitive('slice', [x], { start: [0, 1, 1], limit: [2, 3, 4], stride: [1, 1, 2] });
    checkPrimitive('slice', [x], { start: [1, 0, 0], limit: [2, 3, 4], stride: [1, 2, 3] });
    checkPrimitive('pad', [x], { low: [1, -1, 0], high: [0, 2, -1], interior: [0, 1, 2], value: 7.5 });
    checkPrimitive('pad', [randomArray('int32', [3], 34)], { low: [2], high: [1], interior: [0], value: -3 });
    checkPrimitive('pad', [randomArray('bool', [3, 2], 35)], { low: [0, 1], high: [1, 0], interior: [1, 0], value: 1 });
  });
  it('concat of several operands, with an empty one', () => {
    const a = randomArray('float32', [2, 3], 36);
    const b = randomArray('float32', [2, 0], 37);
    const c = randomArray('float32', [2, 5], 38);
    checkPrimitive('concat', [a, b, c], { axis: 1 });
    checkPrimitive('concat', [a, a], { axis: 0 });
    checkPrimitive('concat', [randomArray('int32', [1], 39)], { axis: 0 });
  });
});

describe('other primitives', () => {
  it('constant, iota, cast, select', () => {
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      const outs = wasm.execute('constant', [], { value: [1.5, -2, 0, 3e9], dtype, shape: [2, 2] }, []);
      const ref = checkPrimitive('iota', [], { shape: [3, 4], dimension: 1, dtype: dtype === 'bool' ? 'int32' : dtype });
      expect(ref[0].data.length).toBe(12);
      wasm.readSync(outs[0]);
    }
    const vals = [...SPECIAL, 2.5, -2.5, 3e9, -3e9, 2147483520];
    for (const from of ['float32', 'int32', 'bool'] as DType[]) {
      for (const to of ['float32', 'int32', 'bool'] as DType[]) {
        const x = from === 'float32' ? f32([vals.length], vals) : randomArray(from, [33], 40);
        checkPrimitive('cast', [x], { dtype: to });
      }
    }
    checkPrimitive('select', [randomArray('bool', [3, 4], 41), randomArray('float32', [3, 4], 42), randomArray('float32', [3, 4], 43)]);
    checkPrimitive('select', [randomArray('bool', [9], 44), randomArray('int32', [9], 45), randomArray('int32', [9], 46)]);
  });

  it('random_bits matches threefry bit for bit', () => {
    const key = hostArray('int32', [2], [42, -7]);
    checkPrimitive('random_bits', [key], { shape: [3, 33] });
    checkPrimitive('random_bits', [key], { shape: [] });
  });

  it('gather and scatter_add (duplicates accumulate); out-of-range indices throw', () => {
    const x = randomArray('float32', [5, 3], 50);
    const idx = hostArray('int32', [2, 2], [4, 0, 0, 2]);
    checkPrimitive('gather', [x, idx], { axis: 0 });
    checkPrimitive('gather', [x, hostArray('int32', [4], [2, 1, 2, 0])], { axis: 1 });
    checkPrimitive('scatter_add', [x, idx, randomArray('float32', [2, 2, 3], 51)], { axis: 0 }, { rtol: 1e-6 });
    checkPrimitive('scatter_add', [randomArray('int32', [4], 52), hostArray('int32', [3], [1, 1, 3]), randomArray('int32', [3], 53)], { axis: 0 });
    expect(() => wasm.execute('gather', [upload(x), upload(hostArray('int32', [1], [5]))], { axis: 0 }, [])).toThrow(/gather: an index is out of range/);
  });

  it('reduce_window max and sum with padding and strides', () => {
    const x = randomArray('float32', [2, 3, 7, 6], 60);
    checkPrimitive('reduce_window', [x], { kind: 'max', window: [2, 2], stride: [2, 2], padding: [[0, 1], [0, 0]] });
    checkPrimitive('reduce_window', [x], { kind: 'sum', window: [3, 3], stride: [1, 1], padding: [[1, 1], [1, 1]] }, { rtol: 1e-5, atol: 1e-5 });
    checkPrimitive('reduce_window', [randomArray('int32', [10], 61)], { kind: 'sum', window: [4], stride: [3], padding: [[2, 2]] });
  });

  it('float64 runs on the reference interpreter (kernels are float32/int32/bool)', () => {
    const x = hostArray('float64', [3], [1, 2, 1e-300]);
    checkPrimitive('exp', [x]);
    checkPrimitive('cast', [randomArray('float32', [4], 1)], { dtype: 'float64' });
    checkPrimitive('reduce_sum', [x], { axes: [0] });
  });
});

describe('contractions', () => {
  const mm = (a: number[], b: number[], contract: [number[], number[]], batch: [number[], number[]] = [[], []], dtype: DType = 'float32', seed = 70) =>
    checkPrimitive('dot_general', [randomArray(dtype, a, seed), randomArray(dtype, b, seed + 1)], { contract, batch }, { rtol: 1e-5, atol: 1e-5 });
  it('matmul shapes around the 4x8 register block, transposed operands, batches', () => {
    for (const [m, k, n] of [[1, 1, 1], [4, 8, 8], [5, 3, 9], [13, 17, 21], [1, 64, 3], [33, 2, 40], [8, 0, 5]]) {
      mm([m, k], [k, n], [[1], [0]]);
      mm([k, m], [k, n], [[0], [0]]);
      mm([m, k], [n, k], [[1], [1]]);
    }
    mm([3, 5, 6], [3, 6, 7], [[2], [1]], [[0], [0]]);
    mm([2, 3, 4, 5], [4, 5, 6], [[2, 3], [0, 1]]);
    mm([6, 2, 3], [3, 2, 4], [[2, 1], [0, 1]]);
    mm([2, 4, 3], [3, 2, 5], [[2], [0]], [[0], [1]]);
    mm([5, 7], [7, 6], [[1], [0]], [[], []], 'int32');
    mm([7], [7], [[0], [0]]);
  });
  it('conv: strides, padding, dilations, groups', () => {
    const conv = (x: number[], w: number[], attrs: Record<string, unknown>, seed = 80) =>
      checkPrimitive('conv', [randomArray('float32', x, seed), randomArray('float32', w, seed + 1)], attrs, { rtol: 1e-5, atol: 1e-5 });
    const base = { stride: [1, 1], padding: [[0, 0], [0, 0]], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 1 };
    conv([2, 3, 6, 5], [4, 3, 3, 3], base);
    conv([2, 3, 6, 5], [4, 3, 3, 3], { ...base, padding: [[1, 1], [1, 1]] });
    conv([1, 4, 9, 9], [6, 2, 3, 2], { ...base, stride: [2, 1], padding: [[1, 0], [0, 2]], groups: 2 });
    conv([1, 2, 5, 5], [3, 2, 2, 2], { ...base, lhsDilation: [2, 2], rhsDilation: [1, 2], padding: [[1, 1], [1, 1]] });
    conv([3, 2, 11], [5, 2, 4], { stride: [2], padding: [[2, 1]], lhsDilation: [1], rhsDilation: [2], groups: 1 });
  });
});
