// Modules under jit: every layer traced equals eager; a CNN with BatchNorm and Dropout through
// functionalCall returns the same outputs and running statistics; a jitted training step (valueAndGrad +
// optimizer update) follows the same loss curve as eager backward() + step().
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { manualSeed, randomKey } from '../../src/frontend/random.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { valueAndGrad } from '../../src/frontend/autograd/functional.js';
import { crossEntropy } from '../../src/frontend/ops/losses.js';
import { Module, functionalCall } from '../../src/frontend/nn/module.js';
import type { StateDict } from '../../src/frontend/nn/module.js';
import * as L from '../../src/frontend/nn/layers.js';
import { MultiheadAttention, TransformerEncoderLayer } from '../../src/frontend/nn/attention.js';
import { withRng } from '../../src/frontend/nn/rng.js';
import { SGD, Adam } from '../../src/frontend/optim/optimizer.js';
import type { Optimizer, OptimizerState } from '../../src/frontend/optim/optimizer.js';
import { expectAllClose, rand, values } from './helpers.js';

function sameUnderJit(m: Module, ...xs: Tensor[]): void {
  const eager = m.call(...xs) as Tensor;
  const f = jit((...ts: Tensor[]) => m.call(...ts) as Tensor);
  expectAllClose(values(f(...xs)), values(eager), 1e-5);
}

class Cnn extends Module {
  // No conv bias before BatchNorm: its gradient is pure rounding noise, which Adam would amplify to +-lr.
  conv = new L.Conv2d(1, 4, 3, { padding: 1, bias: false });
  bn = new L.BatchNorm2d(4);
  pool = new L.MaxPool2d(2);
  drop = new L.Dropout(0.25);
  fc = new L.Linear(4 * 3 * 3, 3);
  forward(x: Tensor): Tensor {
    const h = this.pool.call((this.bn.call(this.conv.call(x)) as Tensor).relu()) as Tensor;
    return this.fc.call(this.drop.call(h.reshape([x.shape[0], 36]))) as Tensor;
  }
}

describe('layers under jit equal eager', () => {
  it('each layer', () => {
    manualSeed(1);
    const img = rand([2, 2, 6, 6], 10).t;
    sameUnderJit(new L.Linear(6, 3), rand([2, 6], 11).t);
    sameUnderJit(new L.Conv2d(2, 3, 3, { stride: 2, padding: 1, groups: 1 }), img);
    sameUnderJit(new L.ConvTranspose2d(2, 3, 2, { stride: 2 }), img);
    sameUnderJit(new L.MaxPool2d(2), img);
    sameUnderJit(new L.AvgPool2d(3, { stride: 1, padding: 1 }), img);
    sameUnderJit(new L.AdaptiveAvgPool2d(3), img);
    sameUnderJit(new L.BatchNorm2d(2), img);
    sameUnderJit(new L.BatchNorm2d(2).eval(), img);
    sameUnderJit(new L.LayerNorm([6, 6]), img);
    sameUnderJit(new L.GroupNorm(1, 2), img);
    sameUnderJit(new L.Embedding(5, 3), tensor([[0, 4], [2, 2]], { dtype: 'int32' }));
    sameUnderJit(new L.Flatten(), img);
    sameUnderJit(new L.Sequential(new L.GELU('tanh'), new L.SiLU(), new L.LeakyReLU(0.3), new L.Sigmoid(), new L.Tanh(), new L.Softmax(1)), img);
    sameUnderJit(new TransformerEncoderLayer(6, 2, { dimFeedforward: 8 }).eval(), rand([3, 2, 6], 12).t);
    const mha = new MultiheadAttention(6, 3);
    const q = rand([3, 2, 6], 13).t;
    const f = jit((t: Tensor) => mha.call(t, t, t, { isCausal: true }) as [Tensor, Tensor]);
    const [a, w] = f(q);
    const [ea, ew] = mha.call(q, q, q, { isCausal: true }) as [Tensor, Tensor];
    expectAllClose(values(a), values(ea), 1e-5);
    expectAllClose(values(w), values(ew), 1e-5);
  });

  it('a CNN with BatchNorm and Dropout through functionalCall: same output and running statistics as eager', () => {
    manualSeed(2);
    const model = new Cnn();
    const x = rand([4, 1, 6, 6], 14).t;
    const params = Object.fromEntries(model.namedParameters());
    const buffers = Object.fromEntries(model.namedBuffers());
    const forward = (p: StateDict, b: StateDict, t: Tensor, key: Tensor) => withRng(key, () => functionalCall<Tensor>(model, { ...p, ...b }, t));
    const jitted = jit(forward);
    const j = jitted(params, buffers, x, randomKey(3));
    const e = forward(params, buffers, x, randomKey(3));
    expectAllClose(values(j.output), values(e.output), 1e-5);
    expectAllClose(values(j.buffers['bn.runningMean']), values(e.buffers['bn.runningMean']), 1e-6);
    expectAllClose(values(j.buffers['bn.runningVar']), values(e.buffers['bn.runningVar']), 1e-6);
    expect(values(j.buffers['bn.runningMean'])).not.toEqual([0, 0, 0, 0]);
    // The module's own buffers are untouched by either call.
    expect(values(model.bn.runningMean)).toEqual([0, 0, 0, 0]);
    // Another key, another dropout mask, no retrace.
    expect(values(jitted(params, buffers, x, randomKey(4)).output)).not.toEqual(values(j.output));
    expect(jitted.stats().traces).toBe(1);
    model.eval();
    sameUnderJit(model, x);
  });
});

describe('a jitted training step follows the eager loss curve', () => {
  const cases: [string, (ps: Tensor[]) => Optimizer<any>][] = [
    ['SGD with momentum', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 })],
    ['Adam', (ps) => new Adam(ps, { lr: 0.01 })],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const x = rand([6, 1, 6, 6], 20).t;
      const y = tensor([0, 1, 2, 0, 1, 2], { dtype: 'int32' });
      const keys = [5, 6, 7].map((s) => randomKey(s));

      manualSeed(3);
      const eagerModel = new Cnn();
      const eagerOpt = make(eagerModel.parameters());
      const eagerLoss = keys.map((key) => {
        eagerOpt.zeroGrad();
        const loss = crossEntropy(withRng(key, () => eagerModel.call(x) as Tensor), y);
        loss.backward();
        eagerOpt.step();
        return Number(loss.item());
      });

      manualSeed(3);
      const model = new Cnn();
      const opt = make([]);
      let params = Object.fromEntries(model.namedParameters());
      let buffers = Object.fromEntries(model.namedBuffers());
      let state: OptimizerState = opt.init(params);
      const step = jit((p: StateDict, b: StateDict, st: OptimizerState, key: Tensor) => {
        const objective = (q: StateDict) => {
          const r = withRng(key, () => functionalCall<Tensor>(model, { ...q, ...b }, x));
          return [crossEntropy(r.output, y), r.buffers] as const;
        };
        const [[loss, nb], grads] = valueAndGrad(objective, { hasAux: true })(p) as [[Tensor, StateDict], StateDict];
        return { loss, buffers: nb, ...opt.update(p, grads, st) };
      });
      const jitLoss = keys.map((key) => {
        const out = step(params, buffers, state, key);
        ({ params, buffers, state } = out);
        return Number(out.loss.item());
      });
      expectAllClose(jitLoss, eagerLoss, 1e-5);
      for (const [k, p] of eagerModel.namedParameters()) expectAllClose(values(params[k]), values(p), 1e-5);
      expectAllClose(values(buffers['bn.runningVar']), values(eagerModel.bn.runningVar), 1e-5);
      expect(step.stats().traces).toBe(1);
    });
  }
});
