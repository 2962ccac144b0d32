// The contraction and nn ops under jit: traced results must equal eager ones (same primitives,
// same interpreter), including ops that create constants/iota/random bits while tracing.
import { describe, expect, it } from 'vitest';
import { jit } from '../../src/frontend/jit/jit.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { einsum, matmul } from '../../src/frontend/ops/linalg.js';
import { conv2d, convTranspose2d, avgPool2d, maxPool2d } from '../../src/frontend/ops/conv.js';
import { dropout, gelu, layerNorm, linear, logSoftmax, softmax } from '../../src/frontend/ops/nn_functional.js';
import { crossEntropy } from '../../src/frontend/ops/losses.js';
import { expectClose, rand, tensor } from './nn_test_util.js';

function sameUnderJit(fn: (...xs: Tensor[]) => Tensor, ...xs: Tensor[]): void {
  const eager = fn(...xs);
  const compiled = jit(fn);
  const traced = compiled(...xs);
  expectClose(traced, [...eager.dataSync()], eager.shape, { atol: 1e-6, rtol: 1e-6 });
  compiled(...xs);
  expect(compiled.stats().traces).toBe(1);
}

describe('nn ops under jit', () => {
  it('matmul (batched, broadcast) and einsum with a diagonal', () => {
    sameUnderJit((a, b) => matmul(a, b), rand([2, 1, 3, 4], 1).t, rand([5, 4, 2], 2).t);
    sameUnderJit((a) => einsum('bii->bi', a), rand([2, 3, 3], 3).t);
    sameUnderJit((q, k) => softmax(einsum('bqd,bkd->bqk', q, k)), rand([2, 3, 4], 4).t, rand([2, 5, 4], 5).t);
  });

  it('conv2d, convTranspose2d and pools', () => {
    const x = rand([1, 2, 6, 6], 6).t;
    sameUnderJit((a, w) => maxPool2d(conv2d(a, w, { padding: 1, bias: [0.5, -0.5, 1] }), 2), x, rand([3, 2, 3, 3], 7).t);
    sameUnderJit((a, w) => avgPool2d(convTranspose2d(a, w, { stride: 2, padding: 1, outputPadding: 1 }), 3, { stride: 1, padding: 1, countIncludePad: false }), x, rand([2, 3, 3, 3], 8).t);
  });

  it('an MLP step with layerNorm, gelu, cross entropy and dropout', () => {
    const x = rand([4, 6], 9).t;
    const w1 = rand([8, 6], 10).t;
    const w2 = rand([3, 8], 11).t;
    const y = tensor([0, 2, 1, 2], { dtype: 'int32' });
    const key = tensor([1, 2], { dtype: 'int32' });
    sameUnderJit((a, b, c, t, k) => crossEntropy(linear(dropout(gelu(layerNorm(linear(a, b), 8)), 0.25, { key: k }), c), t, { labelSmoothing: 0.1 }), x, w1, w2, y, key);
    sameUnderJit((a) => logSoftmax(a, { axis: 0 }), x);
  });
});
