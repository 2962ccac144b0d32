// Fusion: kernel counts for the shapes of work the passes exist for, and the structure of the kernels.
import { describe, expect, it } from 'vitest';
import { fuse, countKernels, kernelKinds } from '../../src/passes/fuse.js';
import { cse } from '../../src/passes/cse.js';
import { dce } from '../../src/passes/dce.js';
import type { Function, Op } from '../../src/ir/function.js';
import { elementwiseChain, layerNorm, mlp, mlpTrainStep, softmax } from './programs.js';
import { close, randomInputs, rewrite } from './helpers.js';
import { parseFunction } from '../../src/ir/parser.js';
import { interpret } from '../../src/ir/interpret.js';
import { hostArray } from '../../src/ir/array.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { printFunction } from '../../src/ir/printer.js';

const fused = (fn: Function) => fuse(dce(cse(fn)));
const fusions = (fn: Function): Op[] => fn.body.ops.filter((op) => op.prim === 'fusion');

describe('fuse: kernel counts', () => {
  it('a 10-op elementwise chain on broadcast inputs is one kernel', () => {
    const f = fused(elementwiseChain());
    expect(countKernels(f)).toBe(1);
    expect(kernelKinds(f)).toEqual(['elementwise']);
  });

  it('softmax over the last axis is one kernel', () => {
    const f = fused(softmax());
    expect(countKernels(f)).toBe(1);
    expect(kernelKinds(f)).toEqual(['reduce']);
  });

  it('layer norm is at most 2 kernels', () => {
    expect(countKernels(fused(layerNorm()))).toBeLessThanOrEqual(2);
  });

  it('relu(x @ W + b) is one contraction kernel with the epilogue inside', () => {
    const f = fused(mlp(4, [8, 16, 16]));
    // two layers: the second has no relu; look at the first kernel
    const [k] = fusions(f);
    expect(k.attrs.kind).toBe('contraction');
    expect(k.regions[0].ops.map((o) => o.prim)).toEqual(['dot_general', 'broadcast', 'add', 'constant', 'max']);
    expect(countKernels(fused(mlp(4, [8, 16])))).toBe(1);
  });

  it('a 3-layer MLP forward is 3 kernels', () => {
    const f = fused(mlp(4, [8, 16, 16, 4]));
    expect(countKernels(f)).toBe(3);
    expect(kernelKinds(f)).toEqual(['contraction', 'contraction', 'contraction']);
  });

  it('the MLP training step fuses updates into the kernels that make the gradients', () => {
    const f = fused(mlpTrainStep());
    expect(countKernels(f)).toBeLessThanOrEqual(10);
    // each weight update (w - lr * g) is the epilogue of the kernel computing its gradient
    for (const out of f.body.results.slice(1)) {
      const k = fusions(f).find((op) => op.results.includes(out))!;
      expect(k.regions[0].ops.some((o) => o.prim === 'dot_general' || o.prim === 'reduce_sum')).toBe(true);
    }
  });
});

describe('fuse: cost rule', () => {
  it('never puts a reduction or contraction in two kernels', () => {
    const f = fused(mlpTrainStep());
    const anchors = fusions(f).flatMap((k) => k.regions[0].ops.filter((o) => ['reduce_sum', 'reduce_max', 'dot_general'].includes(o.prim)));
    const original = mlpTrainStep().body.ops.filter((o) => ['reduce_sum', 'reduce_max', 'dot_general'].includes(o.prim));
    expect(anchors.length).toBe(original.length);
  });
});

describe('fuse: golden IR', () => {
  it('softmax: one three-pass row kernel (max; exp and sum; divide)', () => {
    expect(rewrite(fuse, `func @softmax(%x: f32[2,5]) -> (f32[2,5]) {
  %m = reduce_max %x {axes=[1]} : f32[2]
  %bm = broadcast %m {dims=[0], shape=[2,5]} : f32[2,5]
  %d = sub %x, %bm : f32[2,5]
  %e = exp %d : f32[2,5]
  %s = reduce_sum %e {axes=[1]} : f32[2]
  %bs = broadcast %s {dims=[0], shape=[2,5]} : f32[2,5]
  %y = div %e, %bs : f32[2,5]
  return %y
}`)).toMatchInlineSnapshot(`
  "func @softmax(%x: f32[2,5]) -> (f32[2,5]) {
    %0 = fusion %x {kind=reduce} : f32[2,5] {
    ^(%1: f32[2,5]):
      %2 = reduce_max %1 {axes=[1]} : f32[2]
      %3 = broadcast %2 {dims=[0], shape=[2,5]} : f32[2,5]
      %4 = sub %1, %3 : f32[2,5]
      %5 = exp %4 : f32[2,5]
      %6 = reduce_sum %5 {axes=[1]} : f32[2]
      %7 = broadcast %6 {dims=[0], shape=[2,5]} : f32[2,5]
      %8 = div %5, %7 : f32[2,5]
      yield %8
    }
    return %0
  }
  "
`);
  });

  it('relu(x @ w + b): the bias add and relu are the epilogue of the contraction', () => {
    expect(rewrite(fuse, `func @dense(%x: f32[4,3], %w: f32[3,5], %b: f32[5]) -> (f32[4,5]) {
  %0 = dot_general %x, %w {batch=[[],[]], contract=[[1],[0]]} : f32[4,5]
  %1 = broadcast %b {dims=[1], shape=[4,5]} : f32[4,5]
  %2 = add %0, %1 : f32[4,5]
  %3 = relu %2 : f32[4,5]
  return %3
}`)).toMatchInlineSnapshot(`
  "func @dense(%x: f32[4,3], %w: f32[3,5], %b: f32[5]) -> (f32[4,5]) {
    %0 = fusion %x, %w, %b {kind=contraction} : f32[4,5] {
    ^(%1: f32[4,3], %2: f32[3,5], %3: f32[5]):
      %4 = dot_general %1, %2 {batch=[[],[]], contract=[[1],[0]]} : f32[4,5]
      %5 = broadcast %3 {dims=[1], shape=[4,5]} : f32[4,5]
      %6 = add %4, %5 : f32[4,5]
      %7 = relu %6 : f32[4,5]
      yield %7
    }
    return %0
  }
  "
`);
  });

  it('a value read by two kernels is computed once and written out; control flow stays on top', () => {
    expect(rewrite(fuse, `func @f(%p: bool[], %x: f32[4], %y: f32[4]) -> (f32[], f32[4]) {
  %e = exp %x : f32[4]
  %s = reduce_sum %e {axes=[0]} : f32[]
  %r = cond %p, %e : f32[4] {
  ^(%a: f32[4]):
    %b = neg %a : f32[4]
    %c = mul %b, %b : f32[4]
    yield %c
  } {
  ^(%d: f32[4]):
    yield %d
  }
  %z = add %r, %y : f32[4]
  return %s, %z
}`)).toMatchInlineSnapshot(`
  "func @f(%p: bool[], %x: f32[4], %y: f32[4]) -> (f32[], f32[4]) {
    %0, %1 = fusion %x {kind=reduce} : f32[4], f32[] {
    ^(%2: f32[4]):
      %3 = exp %2 : f32[4]
      %4 = reduce_sum %3 {axes=[0]} : f32[]
      yield %3, %4
    }
    %5 = cond %p, %0 : f32[4] {
    ^(%a: f32[4]):
      %6 = fusion %a {kind=elementwise} : f32[4] {
      ^(%7: f32[4]):
        %8 = neg %7 : f32[4]
        %9 = mul %8, %8 : f32[4]
        yield %9
      }
      yield %6
    } {
    ^(%d: f32[4]):
      yield %d
    }
    %10 = fusion %5, %y {kind=elementwise} : f32[4] {
    ^(%11: f32[4], %12: f32[4]):
      %13 = add %11, %12 : f32[4]
      yield %13
    }
    return %1, %10
  }
  "
`);
  });
});

describe('fuse: loops', () => {
  it('fuses the bodies of while and scan, and the full pipeline keeps their results', () => {
    const text = `func @loops(%n: i32[], %x: f32[3], %xs: f32[5,3]) -> (i32[], f32[3], f32[3], f32[5,3]) {
  %0 = constant {dtype=i32, shape=[], value=[0]} : i32[]
  %1, %2 = while %0, %x : i32[], f32[3] {
  ^(%i: i32[], %v: f32[3]):
    %3 = lt %i, %n : bool[]
    yield %3
  } {
  ^(%j: i32[], %w: f32[3]):
    %4 = constant {dtype=i32, shape=[], value=[1]} : i32[]
    %5 = add %j, %4 : i32[]
    %6 = tanh %w : f32[3]
    %7 = mul %6, %w : f32[3]
    %8 = reduce_sum %7 {axes=[0]} : f32[]
    %9 = broadcast %8 {dims=[], shape=[3]} : f32[3]
    %10 = sub %7, %9 : f32[3]
    yield %5, %10
  }
  %11 = constant {dtype=f32, shape=[3], value=[0]} : f32[3]
  %12, %13 = scan %11, %xs {length=5, numCarry=1, reverse=false} : f32[3], f32[5,3] {
  ^(%acc: f32[3], %row: f32[3]):
    %14 = exp %row : f32[3]
    %15 = add %acc, %14 : f32[3]
    %16 = neg %15 : f32[3]
    yield %15, %16
  }
  return %1, %2, %12, %13
}`;
    expect(rewrite(fuse, text)).toMatchInlineSnapshot(`
      "func @loops(%n: i32[], %x: f32[3], %xs: f32[5,3]) -> (i32[], f32[3], f32[3], f32[5,3]) {
        %0 = constant {dtype=i32, shape=[], value=[0]} : i32[]
        %1, %2 = while %0, %x : i32[], f32[3] {
        ^(%i: i32[], %v: f32[3]):
          %3 = fusion %i, %n {kind=elementwise} : bool[] {
          ^(%4: i32[], %5: i32[]):
            %6 = lt %4, %5 : bool[]
            yield %6
          }
          yield %3
        } {
        ^(%j: i32[], %w: f32[3]):
          %7 = fusion %j {kind=elementwise} : i32[] {
          ^(%8: i32[]):
            %9 = constant {dtype=i32, shape=[], value=[1]} : i32[]
            %10 = add %8, %9 : i32[]
            yield %10
          }
          %11 = fusion %w {kind=reduce} : f32[3] {
          ^(%12: f32[3]):
            %13 = tanh %12 : f32[3]
            %14 = mul %13, %12 : f32[3]
            %15 = reduce_sum %14 {axes=[0]} : f32[]
            %16 = broadcast %15 {dims=[], shape=[3]} : f32[3]
            %17 = sub %14, %16 : f32[3]
            yield %17
          }
          yield %7, %11
        }
        %18 = constant {dtype=f32, shape=[3], value=[0]} : f32[3]
        %19, %20 = scan %18, %xs {length=5, numCarry=1, reverse=false} : f32[3], f32[5,3] {
        ^(%acc: f32[3], %row: f32[3]):
          %21, %22 = fusion %row, %acc {kind=elementwise} : f32[3], f32[3] {
          ^(%23: f32[3], %24: f32[3]):
            %25 = exp %23 : f32[3]
            %26 = add %24, %25 : f32[3]
            %27 = neg %26 : f32[3]
            yield %26, %27
          }
          yield %21, %22
        }
        return %1, %2, %19, %20
      }
      "
    `);
    const fn = parseFunction(text);
    const inputs = [hostArray('int32', [], [3]), ...randomInputs(fn, 5).slice(1)];
    const before = interpret(fn, inputs);
    const after = interpret(runPipeline(fn, { verify: true }), inputs);
    expect(before.every((r, i) => close(r, after[i]))).toBe(true);
  });
});

describe('fuse: idempotence', () => {
  it('leaves a fused function as it is', () => {
    const once = fused(mlpTrainStep(4, 6, 8, 3));
    expect(printFunction(fuse(once))).toBe(printFunction(once));
  });
});
