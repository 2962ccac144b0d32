// Bad input, the specific cases of issue #11 on every eager device: NaN/±inf in float→int casts are an
// error unless {mode: 'clamp'}; out-of-range indices of take/takeAlongAxis/scatterAdd/Embedding/
// crossEntropy are an error (eagerly and, for gathers, inside jit on cpu-ref and wasm) unless
// {mode: 'clamp'}; mixed devices in one op, in jit arguments and in a layer are a clear KilnError.
import { describe, expect, it } from 'vitest';
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { KilnError } from '../../src/ir/error.js';

const i32 = (xs: number[], device: string) => K.tensor(xs, { dtype: 'int32', device });
const kilnError = (f: () => unknown, re: RegExp) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a KilnError matching ${re}`).toBeInstanceOf(KilnError);
  expect((err as Error).message).toMatch(re);
};

describe.each(['cpu-ref', 'wasm'])('on %s', (device) => {
  it('float→int32 casts: NaN, ±inf and out-of-range values are errors; {mode: "clamp"} saturates', () => {
    kilnError(() => K.astype(K.tensor([1, NaN], { device }), 'int32'), /^astype: cannot cast NaN to int32 \(element 1 of f32\[2\]\); pass \{mode: 'clamp'\} to saturate \(NaN becomes 0\)/);
    kilnError(() => K.astype(K.tensor([Infinity], { device }), 'int32'), /^astype: Infinity is out of the int32 range \(element 0 of f32\[1\]\)/);
    kilnError(() => K.astype(K.tensor([0, -Infinity], { device }), 'int32'), /^astype: -Infinity is out of the int32 range \(element 1/);
    kilnError(() => K.astype(K.tensor([-3e9], { device }), 'int32'), /^astype: -3000000000 is out of the int32 range/);
    expect(K.astype(K.tensor([1.7, -1.7, NaN, Infinity, -Infinity, 3e9], { device }), 'int32', { mode: 'clamp' }).tolist()).toEqual([1, -1, 0, 2147483647, -2147483648, 2147483647]);
    expect(K.astype(K.tensor([2147483520, -2147483648], { device }), 'int32').tolist()).toEqual([2147483520, -2147483648]); // the edges are fine
  });

  it('out-of-range indices are errors naming the index; negative ones count from the end; clamping only when asked', () => {
    const a = K.tensor([10, 20, 30], { device });
    kilnError(() => K.take(a, i32([0, 3], device)), /^take: f32\[3\] along axis 0: gather: index 3 is out of range for axis 0 of size 3/);
    kilnError(() => K.take(a, i32([-4], device)), /^take: .*index -4 is out of range for axis 0 of size 3/);
    expect(K.take(a, i32([-1, -3], device)).tolist()).toEqual([30, 10]);
    expect(K.take(a, i32([-9, 1, 9], device), { mode: 'clamp' }).tolist()).toEqual([10, 20, 30]);
    const m = K.tensor([[1, 2], [3, 4]], { device });
    kilnError(() => K.takeAlongAxis(m, i32([0, 2], device).reshape([2, 1]), { axis: 1 }), /^takeAlongAxis: index 2 is out of range for axis 1 of size 2/);
    expect(K.takeAlongAxis(m, i32([0, 2], device).reshape([2, 1]), { axis: 1, mode: 'clamp' }).tolist()).toEqual([[1], [4]]);
    kilnError(() => K.scatterAdd(a, i32([-5], device), K.tensor([1], { device })), /^scatterAdd: f32\[3\] along axis 0: scatter_add: index -5 is out of range for axis 0 of size 3/);
    const prev = K.defaultDevice();
    K.setDefaultDevice(device);
    try {
      const emb = new K.nn.Embedding(3, 2);
      kilnError(() => emb.call(i32([1, 7], device)), /index 7 is out of range for axis 0 of size 3/);
    } finally {
      K.setDefaultDevice(prev);
    }
    kilnError(() => K.crossEntropy(K.ones([2, 3], { device }), i32([0, 3], device)), /^crossEntropy: target 3 is out of range for 3 classes \(element 1 of i32\[2\]; ignoreIndex is -100\)/);
  });

  it('out-of-range gathers inside jit are errors too', () => {
    const f = K.jit((x: Tensor, i: Tensor) => K.take(x, i));
    const a = K.tensor([10, 20, 30], { device });
    expect(f(a, i32([2, 0], device)).tolist()).toEqual([30, 10]);
    kilnError(() => f(a, i32([2, 5], device)), /gather: (index 5 is out of range for axis 0 of size 3|an index is out of range)/);
    expect(f(a, i32([1, 1], device)).tolist()).toEqual([20, 20]); // and the function still works
  });
});

// Not yet: inside jit, a float→int32 cast of NaN or an out-of-range value saturates (NaN → 0) without an
// error, because kernels have no error channel for it (gathers trap; SIMD truncation and WGSL cannot).
it.todo('float→int32 casts of NaN/±inf inside jit are an error by default');

describe('mixed devices', () => {
  const c = () => K.tensor([1, 2, 3]);
  const w = () => K.tensor([1, 2, 3], { device: 'wasm' });
  it('in one eager op, a composite op, a jitted call and a layer', () => {
    kilnError(() => K.add(c(), w()), /^add: inputs are on different devices \(cpu-ref, wasm\); move them with t\.to\('cpu-ref'\)/);
    kilnError(() => K.matmul(K.ones([2, 2]), K.ones([2, 2], { device: 'wasm' })), /^matmul: f32\[2,2\] @ f32\[2,2\]: operands are on different devices \(cpu-ref, wasm\)/);
    kilnError(() => K.where(K.tensor([true, false, true]), c(), w()), /different devices/);
    kilnError(() => K.jit((a: Tensor, b: Tensor) => K.add(a, b))(c(), w()), /^jit\(.*\): input 1 \(float32\[3\]\) is on 'wasm' but the function compiles for 'cpu-ref'; move it with t\.to\('cpu-ref'\)/);
    const layer = new K.nn.Linear(3, 2); // parameters on cpu-ref
    kilnError(() => layer.call(K.ones([1, 3], { device: 'wasm' })), /different devices \(wasm, cpu-ref\)|different devices \(cpu-ref, wasm\)/);
  });
});
