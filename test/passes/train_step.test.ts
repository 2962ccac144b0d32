// The MLP training step with its backward pass from the IR autodiff pass: the pipeline keeps its
// results, matches the hand-written step, and plans it in well under the no-reuse memory.
import { describe, expect, it } from 'vitest';
import { runPipelineWithReport } from '../../src/passes/pipeline.js';
import { interpret } from '../../src/ir/interpret.js';
import { hostArray } from '../../src/ir/array.js';
import { bytesOf } from '../../src/passes/memory.js';
import { mlpTrainStep } from './programs.js';
import { autodiffTrainStep } from './autodiff_programs.js';
import { close, randomInputs } from './helpers.js';

describe('autodiff training step', () => {
  it('the MLP training step with its backward pass from the autodiff pass: same as the hand-written step', () => {
    const step = autodiffTrainStep();
    const report = runPipelineWithReport(step, { donate: [2, 3, 4, 5], verify: true });
    const inputs = randomInputs(step, 13);
    // real one-hot labels: the hand-written backward uses that each row of onehot sums to 1
    inputs[1] = hostArray('float32', [32, 10], Array.from({ length: 320 }, (_, i) => (i % 10 === (Math.floor(i / 10) * 7) % 10 ? 1 : 0)));
    const [before, after, hand] = [step, report.fn, mlpTrainStep()].map((f) => interpret(f, inputs));
    expect(before.every((r, i) => close(r, after[i]))).toBe(true);
    expect(before.every((r, i) => close(r, hand[i], 1e-5))).toBe(true);
    const sum = step.body.ops.filter((op) => op.prim !== 'constant').flatMap((op) => op.results).reduce((s, v) => s + bytesOf(v), 0);
    expect(report.peakBytes).toBeLessThanOrEqual(0.6 * sum);
    // every weight update is written over its donated weight
    expect(report.plan.inPlace.length).toBeGreaterThanOrEqual(4);
  });
});
