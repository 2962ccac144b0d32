// Gradients through the composite public ops (reductions, shape and indexing helpers) against f64
// finite differences, through both the eager tape and the IR autodiff pass.
import { describe, expect, it } from 'vitest';
import * as K from '../../src/index.js';
import { tensor, checkGrad, Tensor } from '../../src/index.js';

// No ties (max/argmax stay differentiable), no zeros (prod), mixed signs.
const x = () => tensor([[0.5, -1.5, 2], [3, -0.25, 1.25]]);
const idx = (v: number[][]) => tensor(v, { dtype: 'int32' });

const cases: [string, (t: Tensor) => Tensor][] = [
  ['sum axis', (t) => K.sum(t, { axis: -1 })],
  ['mean keepdims', (t) => K.mean(t, { axis: 0, keepdims: true })],
  ['var', (t) => K.variance(t, { axis: 1 })],
  ['std correction 0', (t) => K.std(t, { correction: 0 })],
  ['max', (t) => K.max(t, { axis: 1 })],
  ['min all', (t) => K.min(t)],
  ['prod', (t) => K.prod(t, { axis: 0 })],
  ['logSumExp', (t) => K.logSumExp(t, { axis: [0, 1] })],
  ['cumsum', (t) => K.cumsum(t, { axis: 1 })],
  ['reshape/flatten/squeeze', (t) => K.squeeze(K.unsqueeze(K.flatten(K.reshape(t, [3, 2])), 0))],
  ['transpose/swapaxes', (t) => K.swapaxes(K.transpose(t), 0, 1)],
  ['expand', (t) => K.expand(K.unsqueeze(t, 0), [4, -1, -1])],
  ['concat/stack', (t) => K.stack([K.concat([t, t.mul(2)], 1), K.concat([t.neg(), t], 1)])],
  ['split/chunk', (t) => K.split(t, [1, 2], 1)[1].mul(K.chunk(t, 2, 1)[0])],
  ['pad', (t) => K.pad(t, [[1, 0], [2, -1]], { value: 3 })],
  ['flip', (t) => K.flip(t)],
  ['tile', (t) => K.tile(t, [2, 1])],
  ['clip', (t) => K.clip(t, -1, 1.5)],
  ['index', (t) => K.index(t, '::-1', null, '1:')],
  ['slice with step', (t) => K.slice(t, [0, 2], [2, undefined] as never, [1, -2])],
  ['take', (t) => K.take(t, [2, 0, 2], { axis: 1 })],
  ['gather', (t) => K.gather(t, idx([[2, 1], [0, 0]]), { axis: 1 })],
  ['scatterAdd', (t) => K.scatterAdd(t, [1, 1], tensor([[1, 2], [3, 4]], { dtype: 'float64' }).mul(t.index(':', '0:2')), { axis: 1 })],
];

describe('gradients of the composite ops', () => {
  it.each(cases)('%s', (_, f) => {
    const r = checkGrad(f, [x()]);
    expect(r.maxRelError).toBeLessThan(1e-6);
    expect(r.ok).toBe(true);
  });
});
