// Compiled Functions on 'wasm' (after the full pass pipeline: fused kernels, memory plan, control
// flow) against the reference interpreter, plus the kernel descriptions' printed form and the
// allocator's reuse across runs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Builder } from '../../src/ir/builder.js';
import type { Function } from '../../src/ir/function.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { parseFunction } from '../../src/ir/parser.js';
import { countKernels } from '../../src/passes/fuse.js';
import { buildKernel, primitiveBlock } from '../../src/codegen/kernel_build.js';
import { printKernel } from '../../src/codegen/kernel.js';
import { elementwiseChain, layerNorm, mlp, mlpTrainStep, softmax } from '../passes/programs.js';
import { buildProgram, recipeArb } from '../passes/random_programs.js';
import { randomInputs } from '../passes/helpers.js';
import { checkFunction, upload, wasm } from './helpers.js';
import { hostArray } from '../../src/ir/array.js';
import { evalPrimitive } from '../../src/ir/interpret.js';

const f32 = (...shape: number[]) => ({ dtype: 'float32' as const, shape });
const tol = { rtol: 2e-5, atol: 2e-5 };

describe('fused programs from the pass pipeline', () => {
  const programs: [string, Function][] = [
    ['softmax', softmax(37, 129)],
    ['layer norm', layerNorm(9, 64)],
    ['mlp', mlp(5, [13, 33, 17, 6])],
    ['elementwise chain', elementwiseChain(7, 45)],
    ['mlp training step', mlpTrainStep(16, 24, 40, 10)],
  ];
  for (const [name, fn] of programs) {
    it(`${name}: fused and unfused agree with the interpreter`, () => {
      const inputs = randomInputs(fn, 3);
      checkFunction(runPipeline(fn), inputs, tol);
      checkFunction(runPipeline(fn, { fuse: false }), inputs, tol);
    });
  }

  it('random programs (fast-check, fixed seed) agree after the full pipeline', () => {
    fc.assert(
      fc.property(recipeArb, (recipe) => {
        const fn = buildProgram(recipe);
        checkFunction(runPipeline(fn), randomInputs(fn, 7), tol);
      }),
      { seed: 42, numRuns: 40 },
    );
  });
});

describe('control flow as host-side loops', () => {
  it('while: Newton iterations for sqrt(2) with a captured constant', () => {
    const b = new Builder();
    const x = b.param(f32(4), 'x');
    const two = b.param(f32(4), 'two');
    const cb = new Builder();
    const cx = cb.param(f32(4));
    const cn = cb.param({ dtype: 'int32', shape: [] });
    const condR = cb.block([cb.op1('lt', [cn, cb.constant(6, 'int32', [])], {})]);
    const bb = new Builder();
    const bx = bb.param(f32(4));
    const bn = bb.param({ dtype: 'int32', shape: [] });
    const next = bb.op1('mul', [bb.op1('add', [bx, bb.op1('div', [two, bx], {})], {}), bb.constant(0.5, 'float32', [4])], {});
    const bodyR = bb.block([next, bb.op1('add', [bn, bb.constant(1, 'int32', [])], {})]);
    const [r] = b.op('while', [x, b.constant(0, 'int32', [])], {}, [condR, bodyR]);
    const fn = b.finish('newton', [r]);
    const got = checkFunction(runPipeline(fn), randomInputs(fn, 1).map((a, i) => (i === 1 ? { ...a, data: new Float32Array(4).fill(2) } : { ...a, data: new Float32Array([1, 2, 3, 4]) })));
    expect(got[0].data[0]).toBeCloseTo(Math.SQRT2, 5);
  });

  it('scan: a running sum with stacked outputs, forward and reverse; cond picks a branch', () => {
    for (const reverse of [false, true]) {
      const b = new Builder();
      const xs = b.param(f32(5, 3), 'xs');
      const sb = new Builder();
      const c = sb.param(f32(3));
      const xi = sb.param(f32(3));
      const s = sb.op1('add', [c, xi], {});
      const body = sb.block([s, sb.op1('tanh', [s], {})]);
      const res = b.op('scan', [b.constant(0.25, 'float32', [3]), xs], { length: 5, numCarry: 1, reverse }, [body]);
      checkFunction(runPipeline(b.finish('running', res)), [randomInputs(b.finish('x', [xs]), 4)[0]]);
    }
    const b = new Builder();
    const p = b.param({ dtype: 'bool', shape: [] }, 'p');
    const x = b.param(f32(6), 'x');
    const region = (neg: boolean) => {
      const rb = new Builder();
      const v = rb.param(f32(6));
      return rb.block([neg ? rb.op1('neg', [v], {}) : rb.op1('exp', [v], {})]);
    };
    const fn = b.finish('choose', b.op('cond', [p, x], {}, [region(false), region(true)]));
    for (const v of [0, 1]) checkFunction(runPipeline(fn), [{ dtype: 'bool', shape: [], data: new Uint8Array([v]) }, randomInputs(fn, 2)[1]]);
  });
});

describe('multi-pass row kernels', () => {
  // Pass 0: a sum and an output on S; pass 1: a sum over d e^d; pass 2: the normalized rows.
  // Row results of passes 0 and 1 are outputs too; a fourth pass does not fit one kernel.
  const text = (extra: boolean) => `func @norm(%x: f32[6,37]) -> (f32[6,37], f32[6], f32[6], f32[6,37]${extra ? ', f32[6]' : ''}) {
  %n = constant {dtype=f32, shape=[6], value=[37]} : f32[6]
  %two = constant {dtype=f32, shape=[6,37], value=[2]} : f32[6,37]
  %x2 = mul %x, %two : f32[6,37]
  %s = reduce_sum %x2 {axes=[1]} : f32[6]
  %m = div %s, %n : f32[6]
  %bm = broadcast %m {dims=[0], shape=[6,37]} : f32[6,37]
  %d = sub %x, %bm : f32[6,37]
  %e = exp %d : f32[6,37]
  %d2 = mul %d, %e : f32[6,37]
  %v = reduce_sum %d2 {axes=[1]} : f32[6]
  %bv = broadcast %v {dims=[0], shape=[6,37]} : f32[6,37]
  %y = div %e, %bv : f32[6,37]
  ${extra ? '%w = reduce_max %y {axes=[1]} : f32[6]' : ''}
  return %y, %s, %v, %x2${extra ? ', %w' : ''}
}`;
  it('three passes are one kernel and agree with the interpreter', () => {
    const fn = parseFunction(text(false));
    const fused = runPipeline(fn);
    expect(countKernels(fused)).toBe(1);
    checkFunction(fused, randomInputs(fn, 11), tol);
  });
  it('a fourth pass starts another kernel', () => {
    const fn = parseFunction(text(true));
    const fused = runPipeline(fn);
    expect(countKernels(fused)).toBe(2);
    checkFunction(fused, randomInputs(fn, 12), tol);
  });
});

describe('reductions over a non-last axis (4 and 32 columns per step, leftovers one by one)', () => {
  it('softmax over axis 0, sums, products and integer minima agree with the interpreter', () => {
    const fn = parseFunction(`func @cols(%x: f32[33,70], %i: i32[9,45]) -> (f32[33,70], f32[70], i32[45], f32[70]) {
  %m = reduce_max %x {axes=[0]} : f32[70]
  %bm = broadcast %m {dims=[1], shape=[33,70]} : f32[33,70]
  %d = sub %x, %bm : f32[33,70]
  %e = exp %d : f32[33,70]
  %s = reduce_sum %e {axes=[0]} : f32[70]
  %bs = broadcast %s {dims=[1], shape=[33,70]} : f32[33,70]
  %y = div %e, %bs : f32[33,70]
  %p = reduce_prod %x {axes=[0]} : f32[70]
  %n = reduce_min %i {axes=[0]} : i32[45]
  return %y, %s, %n, %p
}`);
    checkFunction(runPipeline(fn), randomInputs(fn, 13), tol);
  });
});

describe('max and min reductions (pmax/pmin with a NaN mask)', () => {
  it('equal the interpreter: NaN anywhere in a row, infinities, zeros (which zero wins a tie is unspecified)', () => {
    const cols = 37; // 8-lane vector steps, a 4-lane step and a scalar tail
    const rows: number[][] = [
      Array.from({ length: cols }, (_, i) => (i % 2 ? -0 : 0)),
      Array.from({ length: cols }, () => -0),
      Array.from({ length: cols }, (_, i) => (i === 5 ? NaN : -1 - i)),
      Array.from({ length: cols }, (_, i) => (i === 36 ? NaN : i)),
      Array.from({ length: cols }, (_, i) => (i === 9 ? 0 : -0)),
      Array.from({ length: cols }, (_, i) => (i === 30 ? -0 : 0)),
      Array.from({ length: cols }, (_, i) => Math.sin(i) * 1e3),
      Array.from({ length: cols }, (_, i) => (i === 2 ? -Infinity : i === 3 ? Infinity : 1)),
    ];
    const x = hostArray('float32', [rows.length, cols], rows.flat());
    for (const prim of ['reduce_max', 'reduce_min'] as const) {
      const want = evalPrimitive(prim, [x], { axes: [1] })[0].data;
      const got = wasm.readSync(wasm.execute(prim, [upload(x)], { axes: [1] }, [])[0]).data;
      rows.forEach((_, i) => expect(Object.is(got[i], want[i]) || (got[i] === 0 && want[i] === 0), `${prim} row ${i}: ${got[i]} vs ${want[i]}`).toBe(true));
    }
  });
});

describe('kernel descriptions', () => {
  it('softmax becomes one three-pass row kernel; movement ops are index arithmetic', () => {
    const fn = runPipeline(softmax(8, 16));
    const kernels = fn.body.ops.filter((op) => op.prim === 'fusion').map((op, i) => printKernel(buildKernel(`k${i}`, op.regions[0])));
    expect(kernels.join('\n')).toMatchInlineSnapshot(`
      "kernel k0(in0: f32[128], out0: f32[128]) acc a0: max<f32>, a1: sum<f32> {
        for i0 in 0..8 parallel {
          init a0
          init a1
          for r1 in 0..16 {
            t0 = in0[16*i0 + r1]
            a0 max= t0
          }
          for r1 in 0..16 {
            t1 = exp(sub(t0, a0))
            a1 sum= t1
            out0[16*i0 + r1] = t1
          }
          for r1 in 0..16 {
            out0[16*i0 + r1] = div(out0[16*i0 + r1], a1)
          }
        }
      }"
    `);
    const t = printKernel(buildKernel('t', primitiveBlock('transpose', [f32(2, 3, 4)], { perm: [0, 2, 1] })));
    expect(t).toContain('out0[12*i0 + 3*i1 + i2] = in0[12*i0 + i1 + 4*i2]');
    const r = printKernel(buildKernel('r', primitiveBlock('reshape', [f32(2, 3, 4)], { shape: [6, 4] })));
    expect(r).toContain('for i0_i1 in 0..24 parallel');
  });
});

describe('the heap', () => {
  it('a compiled step allocates nothing new once warm; dispose returns blocks to the pool', () => {
    const fn = runPipeline(mlpTrainStep(8, 16, 32, 4));
    const exe = wasm.compile(fn);
    const inputs = randomInputs(fn, 5).map(upload);
    const step = () => exe.run(inputs).forEach((b) => wasm.dispose(b));
    step();
    step();
    const before = wasm.heap.stats();
    for (let i = 0; i < 5; i++) step();
    const after = wasm.heap.stats();
    expect(after.freshAllocations).toBe(before.freshAllocations);
    expect(after.reusedAllocations).toBeGreaterThan(before.reusedAllocations);
    expect(after.memoryBytes).toBe(before.memoryBytes);
  });
});
