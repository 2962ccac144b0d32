// Fusion: kernel counts for the shapes of work the passes exist for, and the structure of the kernels.
import { describe, expect, it } from 'vitest';
import { fuse, countKernels, kernelKinds } from '../../src/passes/fuse.js';
import { cse } from '../../src/passes/cse.js';
import { dce } from '../../src/passes/dce.js';
import type { Function, Op } from '../../src/ir/function.js';
import { elementwiseChain, layerNorm, mlp, mlpTrainStep, softmax } from './programs.js';

const fused = (fn: Function) => fuse(dce(cse(fn)));
const fusions = (fn: Function): Op[] => fn.body.ops.filter((op) => op.prim === 'fusion');

describe('fuse: kernel counts', () => {
  it('a 10-op elementwise chain on broadcast inputs is one kernel', () => {
    const f = fused(elementwiseChain());
    expect(countKernels(f)).toBe(1);
    expect(kernelKinds(f)).toEqual(['elementwise']);
  });

  it('softmax over the last axis is at most 2 kernels', () => {
    const f = fused(softmax());
    expect(countKernels(f)).toBeLessThanOrEqual(2);
    expect(kernelKinds(f)).toEqual(['reduce', 'reduce']);
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
