// Gradients of the layer modules with respect to their inputs and every parameter, against f64 finite
// differences (checkGrad: the eager tape and the IR pass), through functionalCall.
import { describe, it } from 'vitest';
import { tensor } from '../../src/frontend/convert.js';
import { manualSeed } from '../../src/frontend/random.js';
import * as L from '../../src/frontend/nn/layers.js';
import { expectModuleGrad, rand } from './helpers.js';

describe('layer gradients pass checkGrad', () => {
  it('Linear', () => {
    manualSeed(1);
    expectModuleGrad(new L.Linear(3, 2), [rand([4, 3], 10).t]);
    expectModuleGrad(new L.Linear(3, 2, { bias: false }), [rand([2, 2, 3], 11).t]);
  });

  it('Conv2d (padding, stride, groups, dilation) and ConvTranspose2d', () => {
    manualSeed(2);
    expectModuleGrad(new L.Conv2d(2, 2, 2, { padding: 1, stride: 2 }), [rand([1, 2, 3, 3], 12).t]);
    expectModuleGrad(new L.Conv2d(2, 4, 2, { groups: 2, dilation: 2, bias: false }), [rand([1, 2, 4, 4], 13).t]);
    expectModuleGrad(new L.ConvTranspose2d(2, 1, 2, { stride: 2 }), [rand([1, 2, 2, 2], 14).t]);
  });

  it('BatchNorm2d in training (batch statistics) and eval (running statistics); BatchNorm1d', () => {
    manualSeed(3);
    const bn = new L.BatchNorm2d(2);
    bn.weight = tensor([1.5, 0.5]);
    bn.weight.requiresGrad = true;
    expectModuleGrad(bn, [rand([3, 2, 2, 1], 15, -1, 2).t], undefined, { tol: 1e-5 });
    bn.call(rand([3, 2, 2, 1], 16, -1, 2).t);
    bn.eval();
    expectModuleGrad(bn, [rand([2, 2, 1, 2], 17).t]);
    expectModuleGrad(new L.BatchNorm1d(3), [rand([4, 3], 18, -2, 2).t], undefined, { tol: 1e-5 });
  });

  it('LayerNorm and GroupNorm', () => {
    manualSeed(4);
    const ln = new L.LayerNorm(4);
    ln.weight = rand([4], 19, 0.5, 1.5).t;
    ln.weight.requiresGrad = true;
    expectModuleGrad(ln, [rand([3, 4], 20, -2, 2).t], undefined, { tol: 1e-5 });
    expectModuleGrad(new L.GroupNorm(2, 4), [rand([2, 4, 2], 21, -2, 2).t], undefined, { tol: 1e-5 });
  });

  it('Embedding (gradient reaches the rows used, twice for a repeated index)', () => {
    manualSeed(5);
    expectModuleGrad(new L.Embedding(4, 3), [tensor([[1, 3], [1, 0]], { dtype: 'int32' })]);
  });

  it('activations in a Sequential', () => {
    manualSeed(6);
    const m = new L.Sequential(new L.Linear(3, 4), new L.GELU(), new L.Linear(4, 4), new L.SiLU(), new L.Linear(4, 2), new L.Tanh(), new L.Softmax(-1));
    expectModuleGrad(m, [rand([2, 3], 22).t]);
  });
});
