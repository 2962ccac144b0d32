// The passes on IR traced from the public ops (makeIR): the compositions the frontend really emits
// (keepdims reshapes, scalar broadcasts) fuse as well as the hand-built ones.
import { describe, expect, it } from 'vitest';
import '../../src/codegen/cpu_ref.js';
import { makeIR } from '../../src/frontend/tracing.js';
import { layerNorm, logSoftmax, softmax } from '../../src/frontend/ops/nn_functional.js';
import { matmul } from '../../src/frontend/ops/linalg.js';
import { add, relu } from '../../src/frontend/ops/elementwise.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { hostArray } from '../../src/ir/array.js';
import { sizeOf } from '../../src/ir/shape.js';
import { runPipelineWithReport } from '../../src/passes/pipeline.js';
import { interpret } from '../../src/ir/interpret.js';
import type { Function } from '../../src/ir/function.js';
import { close, randomInputs } from './helpers.js';

const input = (shape: number[]) => Tensor._fromHost(hostArray('float32', shape, Array.from({ length: sizeOf(shape) }, (_, i) => Math.sin(i + 1))), 'cpu-ref');

function optimize(fn: Function) {
  const report = runPipelineWithReport(fn, { verify: true });
  const inputs = randomInputs(fn, 3);
  const before = interpret(fn, inputs);
  const after = interpret(report.fn, inputs);
  expect(before.every((x, i) => close(x, after[i]))).toBe(true);
  return report;
}

describe('traced frontend ops', () => {
  it('softmax and logSoftmax over the last axis: 1 kernel each (three passes over each row)', () => {
    expect(optimize(makeIR((x: Tensor) => softmax(x))(input([4, 6]))).kernels).toBe(1);
    expect(optimize(makeIR((x: Tensor) => logSoftmax(x))(input([4, 6]))).kernels).toBe(1);
  });

  it('layerNorm with weight and bias: 2 kernels', () => {
    const fn = makeIR((x: Tensor, w: Tensor, b: Tensor) => layerNorm(x, 6, { weight: w, bias: b }))(input([4, 6]), input([6]), input([6]));
    expect(optimize(fn).kernels).toBeLessThanOrEqual(2);
  });

  it('relu(x @ W + b): 1 contraction kernel', () => {
    const fn = makeIR((x: Tensor, w: Tensor, b: Tensor) => relu(add(matmul(x, w), b)))(input([4, 6]), input([6, 3]), input([3]));
    const report = optimize(fn);
    expect(report.kernels).toBe(1);
    expect(report.fn.body.ops[0].attrs.kind).toBe('contraction');
  });

  it('a 3-layer MLP forward: 3 kernels', () => {
    const layer = (h: Tensor, w: Tensor, b: Tensor) => add(matmul(h, w), b);
    const fn = makeIR((x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor) =>
      layer(relu(layer(relu(layer(x, w1, b1)), w2, b2)), w3, b3),
    )(input([4, 8]), input([8, 16]), input([16]), input([16, 16]), input([16]), input([16, 3]), input([3]));
    expect(optimize(fn).kernels).toBe(3);
  });
});
