// Test-only sum over all axes through the primitive (keeps these tests independent of the reduce ops).
import { bind1 } from '../../src/frontend/trace.js';
import type { Tensor } from '../../src/frontend/tensor.js';

export const sumAll = (x: Tensor): Tensor => bind1('reduce_sum', [x], { axes: x.shape.map((_, i) => i) });
