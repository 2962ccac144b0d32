// The float32 contraction kernels' code paths against the reference interpreter: conv's vector
// im2col packing (interior rows, border rows, panels that wrap an image row, strides, dilations,
// groups, a fused prologue), with each `tuning` switch of the contraction both on and off.
import { afterEach, describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { tuning } from '../../src/codegen/wasm/lanes.js';
import { createWasmDevice } from '../../src/codegen/wasm/device.js';
import { evalPrimitive } from '../../src/ir/interpret.js';
import type { AnyAttrs } from '../../src/ir/ops.js';
import { checkFunction, expectClose, randomArray } from './helpers.js';
import { randomInputs } from '../passes/helpers.js';
import { threadsAvailable } from '../../src/codegen/wasm/threads.js';
import { relaxedSimd } from '../../src/codegen/wasm/features.js';
import { compileKernels } from '../../src/codegen/wasm/compile.js';
import { buildKernel, primitiveBlock } from '../../src/codegen/kernel_build.js';

const f32 = (...shape: number[]) => ({ dtype: 'float32' as const, shape });
const tol = { rtol: 1e-5, atol: 1e-5 };
const saved = { ...tuning };
afterEach(() => void Object.assign(tuning, saved));

/** A fresh device per setting: eager kernels are cached per device, compiled with the tuning of the time. */
function checkWith(sw: Partial<typeof tuning>, prim: 'conv' | 'dot_general', x: number[], w: number[], attrs: AnyAttrs, seed: number, threads = 1): void {
  Object.assign(tuning, saved, sw);
  const d = createWasmDevice({ threads });
  const inputs = [randomArray('float32', x, seed), randomArray('float32', w, seed + 1)];
  const want = evalPrimitive(prim, inputs, attrs)[0];
  const got = d.readSync(d.execute(prim, inputs.map((a) => d.upload(a)), attrs, [])[0]);
  expectClose(got, want, tol.rtol, tol.atol, `${prim} ${JSON.stringify([x, w, attrs, sw])}`);
}

const conv2 = (over: Partial<Record<string, unknown>> = {}): AnyAttrs => ({ stride: [1, 1], padding: [[1, 1], [1, 1]], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 1, ...over });

describe('conv: vector im2col packing', () => {
  const cases: [number[], number[], AnyAttrs][] = [
    // Rows of 16 and 32: panels never wrap; padding makes the edge columns guarded.
    [[2, 3, 16, 16], [5, 3, 3, 3], conv2()],
    [[1, 2, 8, 32], [4, 2, 3, 3], conv2({ padding: [[2, 0], [0, 2]] })],
    // Rows of 28 and 13: some panels wrap a row (element path), plus the partial last panel.
    [[2, 1, 28, 28], [6, 1, 3, 3], conv2()],
    [[1, 4, 13, 13], [3, 4, 3, 3], conv2({ padding: [[0, 0], [0, 0]] })],
    // Strides (lanes not contiguous: element path), dilations, groups, 1x1 and a 1-d conv.
    [[1, 3, 17, 18], [4, 3, 3, 3], conv2({ stride: [2, 2] })],
    [[1, 2, 12, 20], [3, 2, 3, 3], conv2({ rhsDilation: [2, 2], padding: [[2, 2], [2, 2]] })],
    [[1, 2, 9, 10], [3, 2, 3, 3], conv2({ lhsDilation: [2, 1] })],
    [[2, 4, 10, 24], [6, 2, 3, 3], conv2({ groups: 2 })],
    [[3, 5, 8, 16], [7, 5, 1, 1], conv2({ padding: [[0, 0], [0, 0]] })],
    [[2, 3, 40], [4, 3, 5], { stride: [1], padding: [[2, 2]], lhsDilation: [1], rhsDilation: [1], groups: 1 }],
    // Narrow outputs (n <= 16, weight-gradient shaped: big kernel, 3x3 or 4x4 output): static lanes.
    [[3, 4, 14, 14], [5, 4, 14, 14], conv2()],
    [[2, 3, 6, 6], [4, 3, 5, 5], conv2()],
    [[2, 3, 9, 9], [4, 3, 3, 3], conv2({ stride: [3, 3], padding: [[0, 0], [0, 0]] })],
    [[2, 6, 8, 7], [4, 3, 6, 5], conv2({ groups: 2, rhsDilation: [1, 1] })],
    [[3, 2, 12], [4, 2, 8], { stride: [1], padding: [[1, 0]], lhsDilation: [1], rhsDilation: [1], groups: 1 }],
  ];
  for (const vectorPack of [true, false]) {
    it(`agrees with the interpreter (vectorPack ${vectorPack})`, () => {
      cases.forEach(([x, w, attrs], i) => checkWith({ vectorPack }, 'conv', x, w, attrs, 100 + 2 * i));
    });
  }

  it('a fused prologue (relu of the input) and epilogue (bias, tanh) keep their meaning', () => {
    const b = new Builder();
    const x = b.param(f32(2, 3, 16, 24), 'x');
    const w = b.param(f32(4, 3, 3, 3), 'w');
    const bias = b.param(f32(2, 4, 16, 24), 'bias');
    const r = b.op1('max', [x, b.constant(0, 'float32', [2, 3, 16, 24])], {});
    const c = b.op1('conv', [r, w], conv2() as never);
    const fn = b.finish('convRelu', [b.op1('tanh', [b.op1('add', [c, bias], {})], {})]);
    checkFunction(runPipeline(fn), randomInputs(fn, 5), tol);
  });
});

describe('matmul: blocked loop order', () => {
  const dot = (contract: [number[], number[]], batch: [number[], number[]] = [[], []]): AnyAttrs => ({ contract, batch });
  const cases: [number[], number[], AnyAttrs][] = [];
  for (const [m, k, n] of [[1, 5, 3], [9, 7, 17], [13, 17, 21], [37, 33, 40], [64, 20, 8], [70, 3, 9]]) {
    cases.push([[m, k], [k, n], dot([[1], [0]])]);
    cases.push([[k, m], [k, n], dot([[0], [0]])]);
    cases.push([[m, k], [n, k], dot([[1], [1]])]);
  }
  cases.push([[3, 21, 6], [3, 6, 19], dot([[2], [1]], [[0], [0]])]);
  cases.push([[2, 30, 5], [5, 2, 11], dot([[2], [0]], [[0], [1]])]);
  // chunkBytes 1: chunks of one register block; 600: a few blocks per chunk, a partial last chunk.
  for (const chunkBytes of [0, 1, 600, 256 * 1024]) {
    it(`agrees with the interpreter (chunkBytes ${chunkBytes})`, () => {
      cases.forEach(([a, b, attrs], i) => checkWith({ chunkBytes }, 'dot_general', a, b, attrs, 200 + 2 * i));
    });
  }

  it('a fused epilogue (bias, relu) over several chunks', () => {
    Object.assign(tuning, { chunkBytes: 300 });
    const b = new Builder();
    const x = b.param(f32(45, 30), 'x');
    const w = b.param(f32(30, 27), 'w');
    const bias = b.param(f32(45, 27), 'bias');
    const y = b.op1('add', [b.op1('dot_general', [x, w], dot([[1], [0]]) as never), bias], {});
    const fn = b.finish('dense', [b.op1('max', [y, b.constant(0, 'float32', [45, 27])], {})]);
    checkFunction(runPipeline(fn), randomInputs(fn, 6), tol);
  });
});

describe('column groups: the parallel range read as tiles of rows × column groups', () => {
  // Work above the threshold for a parallel launch; odd row counts leave the tiles past the range
  // (G*H > R) to the call that ends it; 3 threads split a group's rows unevenly.
  const dot = (contract: [number[], number[]], batch: [number[], number[]] = [[], []]): AnyAttrs => ({ contract, batch });
  const cases: [number[], number[], AnyAttrs][] = [
    [[37, 90], [90, 61], dot([[1], [0]])],
    [[90, 37], [90, 60], dot([[0], [0]])],
    [[37, 90], [61, 90], dot([[1], [1]])],
    [[3, 13, 40], [3, 40, 77], dot([[2], [1]], [[0], [0]])],
    [[1, 90], [90, 300], dot([[1], [0]])],
  ];
  const convCase: [number[], number[], AnyAttrs] = [[3, 8, 12, 20], [9, 8, 3, 3], conv2()];
  for (const colGroups of [1, 2, 3]) {
    for (const threads of threadsAvailable ? [1, 2, 3] : [1]) {
      it(`agrees with the interpreter (colGroups ${colGroups}, ${threads} thread${threads > 1 ? 's' : ''})`, () => {
        cases.forEach(([a, b, attrs], i) => checkWith({ colGroups }, 'dot_general', a, b, attrs, 300 + 2 * i, threads));
        checkWith({ colGroups }, 'conv', ...convCase, 330, threads);
      });
    }
  }
});

describe('fused multiply-add (relaxed SIMD, where the engine has it)', () => {
  const dot = (contract: [number[], number[]]): AnyAttrs => ({ contract, batch: [[], []] });
  it('the probe answers, and a module compiled without it uses none (artifacts stay portable)', () => {
    expect(typeof relaxedSimd).toBe('boolean');
    const k = buildKernel('mm', primitiveBlock('dot_general', [f32(9, 20), f32(20, 17)], dot([[1], [0]])));
    const plain = compileKernels([k], { optimize: 0 });
    // f32x4.relaxed_madd is 0xfd 0x85 0x02.
    const has = (b: Uint8Array) => b.some((x, i) => x === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02);
    expect(has(plain.bytes)).toBe(false);
    expect(has(compileKernels([k], { optimize: 0, relaxed: true }).bytes)).toBe(true);
  });

  it.runIf(relaxedSimd)('matmul and conv agree with the interpreter (run with --experimental-wasm-relaxed-simd on Node 20)', () => {
    for (const fma of [true, false]) {
      checkWith({ fma }, 'dot_general', [37, 90], [90, 61], dot([[1], [0]]), 400);
      checkWith({ fma }, 'dot_general', [13, 17], [21, 17], dot([[1], [1]]), 402);
      checkWith({ fma }, 'conv', [2, 3, 16, 24], [5, 3, 3, 3], conv2(), 404);
    }
  });
});
