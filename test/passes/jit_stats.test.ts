// jit's stats() shows what the pass pipeline reports: kernels, peakBytes and per-pass milliseconds.
import { describe, expect, it } from 'vitest';
import '../../src/codegen/cpu_ref.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { softmax } from '../../src/frontend/ops/nn_functional.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { hostArray } from '../../src/ir/array.js';

describe('jit stats from the pipeline', () => {
  it('reports kernels, peakBytes and pass timings after the first compile', async () => {
    const f = jit((x: Tensor) => softmax(x));
    const x = Tensor._fromHost(hostArray('float32', [4, 6], Array.from({ length: 24 }, (_, i) => Math.cos(i + 1))), 'cpu-ref');
    const y = f(x) as Tensor;
    const rows = await y.data();
    expect(rows.length).toBe(24);
    expect(Math.abs(Array.from(rows.slice(0, 6)).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    const s = f.stats();
    expect(s.kernels).toBe(1); // max, exp-sum and divide as three passes over each row of one kernel
    expect(s.peakBytes).toBeGreaterThan(0);
    for (const pass of ['verify', 'simplify', 'cse', 'dce', 'fuse', 'plan']) expect(s[`${pass}Ms`]).toBeGreaterThanOrEqual(0);
  });
});
