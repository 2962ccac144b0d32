// Reference interpreter, whole Functions: cond/while/scan/fusion regions (including reads of
// enclosing values), argument checks, error locations, promoteFloat32, threefry and random_bits.
import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import type { DType } from '../../src/ir/dtype.js';
import { KilnError } from '../../src/ir/error.js';
import { newValue } from '../../src/ir/function.js';
import type { Block, Function } from '../../src/ir/function.js';
import { interpret, interpretBlock, threefry2x32 } from '../../src/ir/interpret.js';
import { f32, f64, i32, randomInts, run1, scalar, values } from './interpret_helpers.js';

const ty = (dtype: DType, ...shape: number[]) => ({ dtype, shape });
const noAlias = (outs: { data: ArrayBufferView }[], ins: { data: ArrayBufferView }[]) => {
  for (const o of outs) for (const x of ins) expect(o.data.buffer).not.toBe(x.data.buffer);
};

describe('cond', () => {
  // pick(p, x, y) = p ? -x + y : x   (the then-branch reads y from the enclosing block)
  function pick(): Function {
    const b = new Builder();
    const p = b.param(ty('bool'), 'p');
    const x = b.param(ty('float32', 2), 'x');
    const y = b.param(ty('float32', 2), 'y');
    const tb = new Builder();
    const tx = tb.param(ty('float32', 2));
    const thenR = tb.block([tb.op1('add', [tb.op1('neg', [tx], {}), y], {})]);
    const eb = new Builder();
    const ex = eb.param(ty('float32', 2));
    const elseR = eb.block([ex]);
    return b.finish('pick', b.op('cond', [p, x], {}, [thenR, elseR]));
  }
  it('runs the chosen region, reading enclosing values', () => {
    const x = f32([2], [1.5, -2]);
    const y = f32([2], [10, 20]);
    expect(values(interpret(pick(), [scalar('bool', 1), x, y])[0])).toEqual([8.5, 22]);
    const [r] = interpret(pick(), [scalar('bool', 0), x, y]);
    expect(values(r)).toEqual([1.5, -2]);
    noAlias([r], [x, y]); // the else region returns its parameter: the result must still be fresh
  });
  it('evalPrimitive runs closed regions', () => {
    const tb = new Builder();
    const t = tb.param(ty('int32'));
    const thenR = tb.block([tb.op1('mul', [t, t], {})]);
    const eb = new Builder();
    eb.param(ty('int32'));
    const elseR = eb.block([eb.constant(-1, 'int32')]);
    expect(values(run1('cond', [scalar('bool', 1), scalar('int32', 7)], {}, [thenR, elseR]))).toEqual([49]);
    expect(values(run1('cond', [scalar('bool', 0), scalar('int32', 7)], {}, [thenR, elseR]))).toEqual([-1]);
  });
});

describe('while', () => {
  // (i, acc) -> while i < n: (i + 1, acc * 2); n is read from the enclosing block.
  function doubling(): Function {
    const b = new Builder();
    const n = b.param(ty('int32'), 'n');
    const acc0 = b.param(ty('float32', 2), 'acc');
    const cb = new Builder();
    const ci = cb.param(ty('int32'));
    cb.param(ty('float32', 2));
    const condR = cb.block([cb.op1('lt', [ci, n], {})]);
    const bb = new Builder();
    const bi = bb.param(ty('int32'));
    const bacc = bb.param(ty('float32', 2));
    const bodyR = bb.block([bb.op1('add', [bi, bb.constant(1, 'int32')], {}), bb.op1('mul', [bacc, bb.constant(2, 'float32', [2])], {})]);
    const [i, acc] = b.op('while', [b.constant(0, 'int32'), acc0], {}, [condR, bodyR]);
    return b.finish('doubling', [i, acc]);
  }
  it('loops until cond is false', () => {
    const [i, acc] = interpret(doubling(), [scalar('int32', 5), f32([2], [1.5, -3])]);
    expect(values(i)).toEqual([5]);
    expect(values(acc)).toEqual([48, -96]);
  });
  it('zero iterations return fresh copies of the initial carry', () => {
    const init = f32([2], [1.5, -3]);
    const [i, acc] = interpret(doubling(), [scalar('int32', -2), init]);
    expect(values(i)).toEqual([0]);
    expect(values(acc)).toEqual([1.5, -3]);
    noAlias([acc], [init]);
  });
});

describe('scan', () => {
  // cumulative sum: body(c, x) = (c + x, c + x)
  function cumsum(reverse: boolean, length = 4): Function {
    const b = new Builder();
    const c0 = b.param(ty('float32'), 'c0');
    const xs = b.param(ty('float32', length), 'xs');
    const sb = new Builder();
    const c = sb.param(ty('float32'));
    const x = sb.param(ty('float32'));
    const s = sb.op1('add', [c, x], {});
    const body = sb.block([s, s]);
    return b.finish('cumsum', b.op('scan', [c0, xs], { length, numCarry: 1, reverse }, [body]));
  }
  it('carries forward and stacks ys in time order', () => {
    const [c, ys] = interpret(cumsum(false), [scalar('float32', 0.5), f32([4], [1, 2, 3, 4])]);
    expect(values(c)).toEqual([10.5]);
    expect(values(ys)).toEqual([1.5, 3.5, 6.5, 10.5]);
  });
  it('reverse walks t backwards but writes y at index t', () => {
    const [c, ys] = interpret(cumsum(true), [scalar('float32', 0.5), f32([4], [1, 2, 3, 4])]);
    expect(values(c)).toEqual([10.5]);
    expect(values(ys)).toEqual([10.5, 9.5, 7.5, 4.5]);
  });
  it('length 0 returns a copy of the carry and empty ys', () => {
    const init = scalar('float32', 0.5);
    const [c, ys] = interpret(cumsum(false, 0), [init, f32([0], [])]);
    expect(values(c)).toEqual([0.5]);
    expect(ys.shape).toEqual([0]);
    noAlias([c], [init]);
  });
  it('several xs, no carry, ys that are slices of xs are copied', () => {
    const b = new Builder();
    const xs = b.param(ty('int32', 3, 2), 'xs');
    const zs = b.param(ty('int32', 3), 'zs');
    const sb = new Builder();
    const x = sb.param(ty('int32', 2));
    const z = sb.param(ty('int32'));
    const body = sb.block([x, sb.op1('mul', [sb.op1('reduce_sum', [x], { axes: [0] }), z], {})]);
    const fn = b.finish('pairs', b.op('scan', [xs, zs], { length: 3, numCarry: 0, reverse: false }, [body]));
    const xIn = i32([3, 2], [1, 2, 3, 4, 5, 6]);
    const [same, prod] = interpret(fn, [xIn, i32([3], [10, -1, 2])]);
    expect(values(same)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(prod)).toEqual([30, -7, 22]);
    noAlias([same], [xIn]);
  });
  it('a scan nested in a while reads values of both enclosing blocks', () => {
    // while i < 2: (i + 1, scan over xs adding w (outer param) into the carry)
    const b = new Builder();
    const w = b.param(ty('float64'), 'w');
    const xs = b.param(ty('float64', 2), 'xs');
    const cb = new Builder();
    const ci = cb.param(ty('int32'));
    cb.param(ty('float64'));
    const condR = cb.block([cb.op1('lt', [ci, cb.constant(2, 'int32')], {})]);
    const bb = new Builder();
    const bi = bb.param(ty('int32'));
    const bacc = bb.param(ty('float64'));
    const sb = new Builder();
    const sc = sb.param(ty('float64'));
    const sx = sb.param(ty('float64'));
    const sbody = sb.block([sb.op1('add', [sb.op1('add', [sc, sx], {}), sb.op1('mul', [w, bb.op1('cast', [bi], { dtype: 'float64' })], {})], {})]);
    const [acc] = bb.op('scan', [bacc, xs], { length: 2, numCarry: 1, reverse: false }, [sbody]);
    const bodyR = bb.block([bb.op1('add', [bi, bb.constant(1, 'int32')], {}), acc]);
    const [, out] = b.op('while', [b.constant(0, 'int32'), b.constant(0, 'float64')], {}, [condR, bodyR]);
    const fn = b.finish('nested', [out]);
    // iteration i adds x0 + x1 + 2*w*i: (1 + 2) + (1 + 2 + 2*10) = 26
    expect(values(interpret(fn, [scalar('float64', 10), f64([2], [1, 2])])[0])).toEqual([26]);
  });
});

describe('fusion', () => {
  it('runs its region on the inputs', () => {
    const rb = new Builder();
    const a = rb.param(ty('float32', 2));
    const c = rb.param(ty('float32', 2));
    const body = rb.block([rb.op1('mul', [rb.op1('add', [a, c], {}), c], {})]);
    expect(values(run1('fusion', [f32([2], [1, 2]), f32([2], [3, -4])], { kind: 'elementwise' }, [body]))).toEqual([12, 8]);
  });
});

describe('interpret and interpretBlock', () => {
  function affine(): Function {
    const b = new Builder();
    const x = b.param(ty('float32', 2, 3), 'x');
    const w = b.param(ty('float32', 3), 'w');
    const y = b.op1('mul', [x, b.op1('broadcast', [w], { shape: [2, 3], dims: [1] })], {});
    return b.finish('affine', [y, b.op1('reduce_sum', [y], { axes: [1] }), x, x]);
  }
  it('evaluates in order; results returning a parameter (even twice) are fresh', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const w = f32([3], [0.5, -1, 2]);
    const [y, s, x1, x2] = interpret(affine(), [x, w]);
    expect(values(y)).toEqual([0.5, -2, 6, 2, -5, 12]);
    expect(values(s)).toEqual([4.5, 9]);
    expect(values(x1)).toEqual(values(x));
    noAlias([y, s, x1, x2], [x, w]);
    expect(x1.data.buffer).not.toBe(x2.data.buffer);
  });
  it('checks argument count, dtype and shape, naming the function', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => interpret(affine(), [x])).toThrow(new KilnError('interpret @affine: expects 2 argument(s), got 1'));
    expect(() => interpret(affine(), [x, i32([3], [1, 2, 3])])).toThrow(new KilnError('interpret @affine: argument 1 (%w) must be f32[3], got i32[3]'));
    expect(() => interpret(affine(), [x, f32([4], [1, 2, 3, 4])])).toThrow(/@affine: argument 1 \(%w\) must be f32\[3\], got f32\[4\]/);
    const lying = { dtype: 'float32' as const, shape: [3], data: new Float64Array(3) };
    expect(() => interpret(affine(), [x, lying])).toThrow(/@affine: argument 1 \(%w\) of type f32\[3\] holds 3 values in a Float64Array/);
  });
  it('interpretBlock takes enclosing values through env', () => {
    const outer = newValue(ty('float32', 2));
    const rb = new Builder();
    const p = rb.param(ty('float32', 2));
    const block: Block = rb.block([rb.op1('sub', [p, outer], {})]);
    const env = new Map([[outer.id, f32([2], [0.5, 1])]]);
    expect(values(interpretBlock(block, [f32([2], [3, 4])], env)[0])).toEqual([2.5, 3]);
    expect(() => interpretBlock(block, [f32([2], [3, 4])])).toThrow(/value %\d+ is used but never defined/);
  });
  it('op errors name the user source line when the op knows it', () => {
    const b = new Builder();
    const x = b.param(ty('float32', 5), 'x');
    const idx = b.param(ty('int32', 2), 'idx');
    const g = b.op1('gather', [x, idx], { axis: 0 }, [], 'model.ts:3:5');
    const fn = b.finish('take', [g]);
    expect(() => interpret(fn, [f32([5], [1, 2, 3, 4, 5]), i32([2], [0, 7])])).toThrow(
      new KilnError('gather: index 7 is out of range for axis 0 of size 5 (at model.ts:3:5)'),
    );
  });
  it('a long chain keeps values alive exactly as long as they are read', () => {
    // x -> 200 adds of 1, each step also reading x inside a cond region; returns x and the end.
    const b = new Builder();
    const x = b.param(ty('float64', 3), 'x');
    let h = x;
    for (let k = 0; k < 200; k++) {
      const rb = new Builder();
      const rp = rb.param(ty('float64', 3));
      const region = rb.block([rb.op1('add', [rp, rb.op1('sub', [x, x], {})], {})]);
      const one = b.constant(1, 'float64', [3]);
      h = b.op1('cond', [b.constant(1, 'bool'), b.op1('add', [h, one], {})], {}, [region, region]);
    }
    const [end, same] = interpret(b.finish('chain', [h, x]), [f64([3], [0.5, 1.5, -2])]);
    expect(values(end)).toEqual([200.5, 201.5, 198]);
    expect(values(same)).toEqual([0.5, 1.5, -2]);
  });
});

describe('promoteFloat32', () => {
  // f(x) = (x + 2^-30) - x, in f32: 0; promoted to f64: 2^-30.
  function tiny(): Function {
    const b = new Builder();
    const x = b.param(ty('float32', 2), 'x');
    const e = b.constant(2 ** -30, 'float32', [2]);
    const y = b.op1('sub', [b.op1('add', [x, e], {}), x], {});
    // cast to f32 must not round either when promoting
    return b.finish('tiny', [y, b.op1('cast', [b.op1('cast', [x], { dtype: 'float64' })], { dtype: 'float32' }), b.op1('reduce_sum', [b.op1('cast', [x], { dtype: 'int32' })], { axes: [0] })]);
  }
  it('runs float32 math in float64 and returns float64', () => {
    const x = f32([2], [1, 3]);
    expect(values(interpret(tiny(), [x])[0])).toEqual([0, 0]);
    const [y, back, ints] = interpret(tiny(), [x], { promoteFloat32: true });
    expect(y.dtype).toBe('float64');
    expect(y.data).toBeInstanceOf(Float64Array);
    expect(values(y)).toEqual([2 ** -30, 2 ** -30]);
    expect(values(back)).toEqual([1, 3]);
    expect(ints.dtype).toBe('int32');
    expect(values(ints)).toEqual([4]);
  });
  it('accepts float64 arguments for float32 parameters without rounding them', () => {
    const [, back] = interpret(tiny(), [f64([2], [0.1, 1 + 2 ** -40])], { promoteFloat32: true });
    expect(values(back)).toEqual([0.1, 1 + 2 ** -40]);
    expect(() => interpret(tiny(), [f64([2], [0.1, 1])])).toThrow(/argument 0 \(%x\) must be f32\[2\], got f64\[2\]/);
  });
});

describe('threefry2x32 and random_bits', () => {
  const hex = (x: [number, number]) => x.map((v) => v.toString(16).padStart(8, '0'));
  it('matches the Random123 known-answer vectors (20 rounds)', () => {
    expect(hex(threefry2x32(0, 0, 0, 0))).toEqual(['6b200159', '99ba4efe']);
    expect(hex(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff))).toEqual(['1cb996fc', 'bb002be7']);
    expect(hex(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3))).toEqual(['c4923a9c', '483df7a0']);
    // int32 (negative) inputs are read as uint32
    expect(threefry2x32(-1, -1, -1, -1)).toEqual(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff));
  });
  it('random_bits: element i is word 0 of threefry(key, (i, 0)) as int32', () => {
    // Values from an independent Python implementation of threefry2x32_20.
    const bits = run1('random_bits', [i32([2], [0, 0])], { shape: [2, 2] });
    expect(values(bits)).toEqual([1797259609, 1351547692, 1688610540, -1196702511]);
    expect(values(run1('random_bits', [i32([2], [-1, 7])], { shape: [3] }))).toEqual([-262893311, 411662092, 839130738]);
    expect(values(run1('random_bits', [i32([2], [3, 4])], { shape: [0] }))).toEqual([]);
  });
  it('random_bits looks uniform: each bit set about half the time', () => {
    const [k0, k1] = randomInts(11, 2, -1000, 1000);
    const bits = values(run1('random_bits', [i32([2], [k0, k1])], { shape: [4096] }));
    for (let bit = 0; bit < 32; bit++) {
      const ones = bits.reduce((s, v) => s + ((v >>> bit) & 1), 0);
      expect(Math.abs(ones - 2048)).toBeLessThan(200); // ~6 standard deviations
    }
  });
  it('key and shape fully determine the bits', () => {
    const a = values(run1('random_bits', [i32([2], [5, 6])], { shape: [6] }));
    expect(values(run1('random_bits', [i32([2], [5, 6])], { shape: [2, 3] }))).toEqual(a);
    expect(values(run1('random_bits', [i32([2], [5, 7])], { shape: [6] }))).not.toEqual(a);
  });
});
