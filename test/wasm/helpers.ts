// Shared helpers of the wasm backend tests: a seeded generator, typed random arrays with edge values,
// and the differential check of a primitive or a Function on 'wasm' against the reference interpreter.
import { expect } from 'vitest';
import type { HostArray } from '../../src/ir/array.js';
import { hostArray } from '../../src/ir/array.js';
import type { DType } from '../../src/ir/dtype.js';
import type { Function, Block } from '../../src/ir/function.js';
import type { AnyAttrs, Primitive } from '../../src/ir/ops.js';
import { evalPrimitive, interpret } from '../../src/ir/interpret.js';
import { sizeOf, typeToString } from '../../src/ir/shape.js';
import { createWasmDevice } from '../../src/codegen/wasm/device.js';

export const wasm = createWasmDevice();

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random values of a dtype: floats in [lo, hi), ints in [-9, 9] plus the int32 extremes now and then. */
export function randomArray(dtype: DType, shape: readonly number[], seed: number, lo = -3, hi = 3): HostArray {
  const r = rng(seed);
  const n = sizeOf(shape);
  const data = Array.from({ length: n }, () => {
    if (dtype === 'bool') return r() < 0.5 ? 1 : 0;
    if (dtype === 'int32') {
      const u = r();
      if (u < 0.03) return -2147483648;
      if (u < 0.06) return 2147483647;
      return Math.floor(r() * 19) - 9;
    }
    return lo + (hi - lo) * r();
  });
  return hostArray(dtype, shape, data);
}

/** Edge values for float tests. */
export const SPECIAL = [0, -0, 1, -1, 0.5, -0.5, 1e-30, -1e-30, 1e-45, 3e38, -3e38, Infinity, -Infinity, NaN, 88.5, -88.5, 100, -100];

export function upload(a: HostArray) {
  return wasm.upload(a);
}

/** |got - want| <= atol + rtol |want| per element; NaN matches NaN, infinities match exactly. */
export function expectClose(got: HostArray, want: HostArray, rtol = 2e-6, atol = 0, what = ''): void {
  expect(typeToString(got), what).toBe(typeToString(want));
  const n = want.data.length;
  for (let i = 0; i < n; i++) {
    const g = got.data[i];
    const w = want.data[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) expect.fail(`${what} element ${i}: got ${g}, want NaN`);
      continue;
    }
    if (!Number.isFinite(w) || want.dtype !== 'float32') {
      if (g !== w) expect.fail(`${what} element ${i}: got ${g}, want ${w}`);
      continue;
    }
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) expect.fail(`${what} element ${i}: got ${g}, want ${w} (tolerance ${atol} + ${rtol}*|want|)`);
  }
}

/** Runs one primitive on 'wasm' and on the interpreter and compares. */
export function checkPrimitive(prim: Primitive, inputs: HostArray[], attrs: AnyAttrs = {}, tol: { rtol?: number; atol?: number } = {}, regions: readonly Block[] = []): HostArray[] {
  const want = evalPrimitive(prim, inputs, attrs, regions);
  const outs = wasm.execute(prim, inputs.map(upload), attrs, regions);
  const got = outs.map((b) => wasm.readSync(b));
  outs.forEach((b) => wasm.dispose(b));
  got.forEach((g, i) => expectClose(g, want[i], tol.rtol, tol.atol, `${prim}(${inputs.map(typeToString).join(', ')}) ${JSON.stringify(attrs)}`));
  return got;
}

/** Compiles a Function on 'wasm', runs it, and compares with the interpreter. */
export function checkFunction(fn: Function, inputs: HostArray[], tol: { rtol?: number; atol?: number } = {}): HostArray[] {
  const want = interpret(fn, inputs);
  const exe = wasm.compile(fn);
  const bufs = inputs.map(upload);
  const outs = exe.run(bufs);
  const got = outs.map((b) => wasm.readSync(b));
  [...outs, ...bufs].forEach((b) => wasm.dispose(b));
  got.forEach((g, i) => expectClose(g, want[i], tol.rtol, tol.atol, `@${fn.name} result ${i}`));
  return got;
}
