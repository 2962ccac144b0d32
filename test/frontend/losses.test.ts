import { describe, expect, it } from 'vitest';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, huberLoss, klDiv, l1Loss, mseLoss, nllLoss, smoothL1Loss,
} from '../../src/frontend/ops/losses.js';
import { expectClose, forEachIndex, rand, tensor } from './nn_test_util.js';

const logSoftmaxRow = (r: number[]) => {
  const m = Math.max(...r);
  const lse = m + Math.log(r.reduce((a, z) => a + Math.exp(z - m), 0));
  return r.map((z) => z - lse);
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

describe('crossEntropy', () => {
  const N = 6;
  const C = 4;
  const logits = rand([N, C], 901, 'float32', -3, 3);
  const target = [0, 3, 1, 1, 2, 3];
  const tgt = tensor(target, { dtype: 'int32' });
  const logp = Array.from({ length: N }, (_, i) => logSoftmaxRow(logits.v.slice(i * C, (i + 1) * C)));
  const perSample = target.map((y, i) => -logp[i][y]);

  it('with class indices matches -log softmax[target] for each reduction', () => {
    expectClose(crossEntropy(logits.t, tgt), [mean(perSample)], []);
    expectClose(crossEntropy(logits.t, tgt, { reduction: 'sum' }), [sum(perSample)], [], { atol: 1e-5, rtol: 1e-5 });
    expectClose(crossEntropy(logits.t, tgt, { reduction: 'none' }), perSample, [N]);
    expectClose(crossEntropy(logits.t, target), [mean(perSample)], []); // a JS array target means indices
  });

  it('class weights weight the mean by w[target]', () => {
    const w = [0.5, 2, 1, 3];
    const num = sum(target.map((y, i) => w[y] * perSample[i]));
    const den = sum(target.map((y) => w[y]));
    expectClose(crossEntropy(logits.t, tgt, { weight: w }), [num / den], []);
  });

  it('ignoreIndex drops samples from the loss and from the divisor', () => {
    const t2 = [0, -100, 1, 1, -100, 3];
    const kept = t2.flatMap((y, i) => (y === -100 ? [] : [-logp[i][y]]));
    expectClose(crossEntropy(logits.t, tensor(t2, { dtype: 'int32' })), [mean(kept)], []);
    const t3 = [0, 2, 1, 1, 2, 3];
    const kept3 = t3.flatMap((y, i) => (y === 2 ? [] : [-logp[i][y]]));
    expectClose(crossEntropy(logits.t, tensor(t3, { dtype: 'int32' }), { ignoreIndex: 2 }), [mean(kept3)], []);
  });

  it('label smoothing mixes in the uniform distribution', () => {
    const s = 0.2;
    const smoothed = target.map((y, i) => (1 - s) * -logp[i][y] + (s / C) * -sum(logp[i]));
    expectClose(crossEntropy(logits.t, tgt, { labelSmoothing: s }), [mean(smoothed)], []);
    const w = [0.5, 2, 1, 3];
    const num = sum(target.map((y, i) => (1 - s) * w[y] * -logp[i][y] + (s / C) * -sum(logp[i].map((l, c) => l * w[c]))));
    expectClose(crossEntropy(logits.t, tgt, { labelSmoothing: s, weight: w }), [num / sum(target.map((y) => w[y]))], []);
  });

  it('with probabilities matches -sum p log softmax', () => {
    const p = rand([N, C], 902, 'float32', 0.1, 1);
    const probs = Array.from({ length: N }, (_, i) => {
      const r = p.v.slice(i * C, (i + 1) * C);
      return r.map((z) => z / sum(r));
    });
    const pt = tensor(probs);
    const per = probs.map((r, i) => -sum(r.map((q, c) => q * logp[i][c])));
    expectClose(crossEntropy(logits.t, pt), [mean(per)], []);
    const s = 0.1;
    const perS = probs.map((r, i) => -sum(r.map((q, c) => ((1 - s) * q + s / C) * logp[i][c])));
    expectClose(crossEntropy(logits.t, pt, { labelSmoothing: s, reduction: 'none' }), perS, [N]);
  });

  it('handles spatial dims [N, C, d] and unbatched [C]', () => {
    const x = rand([2, 3, 4], 903);
    const t = [0, 2, 1, 1, 2, 0, 0, 1];
    const per: number[] = [];
    forEachIndex([2, 4], ([n, d]) => {
      const r = [0, 1, 2].map((c) => x.v[(n * 3 + c) * 4 + d]);
      per.push(-logSoftmaxRow(r)[t[n * 4 + d]]);
    });
    expectClose(crossEntropy(x.t, tensor([t.slice(0, 4), t.slice(4)], { dtype: 'int32' }), { reduction: 'none' }), per, [2, 4]);
    expectClose(crossEntropy(tensor([1, 2, 3]), tensor(2, { dtype: 'int32' })), [-logSoftmaxRow([1, 2, 3])[2]], []);
  });

  it('is finite and exact at ±1e4', () => {
    const big = tensor([[1e4, -1e4, 0], [-1e4, 1e4, 1e4]]);
    const y = tensor([1, 0], { dtype: 'int32' });
    expectClose(crossEntropy(big, y, { reduction: 'none' }), [2e4, 2e4 + Math.LN2], [2]);
    expectClose(crossEntropy(big, tensor([0, 1], { dtype: 'int32' }), { reduction: 'none' }), [0, Math.LN2], [2]);
  });

  it('reports bad targets', () => {
    expect(() => crossEntropy(logits.t, tensor([0, 1], { dtype: 'int32' }))).toThrow('crossEntropy: target must be int32 class indices [6] for input f32[6,4], got i32[2]');
    expect(() => crossEntropy(logits.t, rand([6], 1).t)).toThrow('crossEntropy: target must be int32 class indices [6] or probabilities shaped like the logits f32[6,4], got f32[6]');
    expect(() => crossEntropy(logits.t, tgt, { weight: [1, 2] })).toThrow('crossEntropy: weight must be [4] (one per class), got f32[2]');
    expect(() => crossEntropy(logits.t, tgt, { reduction: 'avg' as never })).toThrow("crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'");
  });
});

describe('nllLoss', () => {
  it('picks -input[target]', () => {
    const x = rand([3, 5], 911);
    const t = [4, 0, 2];
    expectClose(nllLoss(x.t, tensor(t, { dtype: 'int32' }), { reduction: 'none' }), t.map((y, i) => -x.v[i * 5 + y]), [3]);
    expectClose(nllLoss(x.t, t), [mean(t.map((y, i) => -x.v[i * 5 + y]))], []);
    expect(() => nllLoss(x.t, rand([3], 2).t)).toThrow('nllLoss: target must be int32 class indices [3] for input f32[3,5], got f32[3]');
  });
});

describe('regression losses', () => {
  const a = rand([3, 4], 921, 'float32', -3, 3);
  const b = rand([3, 4], 922, 'float32', -3, 3);
  const d = a.v.map((x, i) => x - b.v[i]);

  it('mseLoss and l1Loss', () => {
    expectClose(mseLoss(a.t, b.t), [mean(d.map((x) => x * x))], []);
    expectClose(mseLoss(a.t, b.t, { reduction: 'sum' }), [sum(d.map((x) => x * x))], [], { atol: 1e-4, rtol: 1e-5 });
    expectClose(l1Loss(a.t, b.t, { reduction: 'none' }), d.map(Math.abs), [3, 4]);
    expectClose(l1Loss(a.t, b.t), [mean(d.map(Math.abs))], []);
  });

  it('huberLoss and smoothL1Loss', () => {
    const huber = (x: number, delta: number) => (Math.abs(x) < delta ? 0.5 * x * x : delta * (Math.abs(x) - 0.5 * delta));
    expectClose(huberLoss(a.t, b.t, { reduction: 'none' }), d.map((x) => huber(x, 1)), [3, 4]);
    expectClose(huberLoss(a.t, b.t, { delta: 2 }), [mean(d.map((x) => huber(x, 2)))], []);
    expectClose(smoothL1Loss(a.t, b.t, { beta: 2, reduction: 'none' }), d.map((x) => huber(x, 2) / 2), [3, 4]);
    expect(() => huberLoss(a.t, b.t, { delta: 0 })).toThrow('huberLoss: delta must be positive, got 0');
  });
});

describe('binary and distribution losses', () => {
  const x = [-1e4, -30, -2, -0.5, 0.25, 1, 3, 1e4];
  const y = [0, 1, 0.25, 1, 0, 0.5, 1, 0];
  const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  const bce = (z: number, t: number) => t * softplus(-z) + (1 - t) * softplus(z);

  it('binaryCrossEntropyWithLogits is stable at ±1e4', () => {
    const l = binaryCrossEntropyWithLogits(x, y, { reduction: 'none' });
    expect([...l.dataSync()].every(Number.isFinite)).toBe(true);
    expectClose(l, x.map((z, i) => bce(z, y[i])), [8], { atol: 1e-5, rtol: 1e-5 });
    expectClose(binaryCrossEntropyWithLogits(x, y), [mean(x.map((z, i) => bce(z, y[i])))], [], { atol: 1e-2, rtol: 1e-6 });
  });

  it('posWeight scales the positive term and weight every element', () => {
    const pw = 3;
    const w = x.map((_, i) => 0.5 + i / 8);
    const ref = x.map((z, i) => w[i] * (pw * y[i] * softplus(-z) + (1 - y[i]) * softplus(z)));
    expectClose(binaryCrossEntropyWithLogits(x, y, { posWeight: pw, weight: w, reduction: 'none' }), ref, [8], { atol: 1e-4, rtol: 1e-5 });
    expect(() => binaryCrossEntropyWithLogits([1, 2], [1])).toThrow("binaryCrossEntropyWithLogits: target f32[1] must have the input's shape f32[2]");
  });

  it('binaryCrossEntropy on probabilities clamps logs at -100', () => {
    const p = [0.1, 0.5, 0.9, 1, 0];
    const t = [0, 1, 1, 0, 0.5];
    const clampLog = (v: number) => Math.max(Math.log(v), -100);
    const ref = p.map((q, i) => -(t[i] * clampLog(q) + (1 - t[i]) * clampLog(1 - q)));
    expectClose(binaryCrossEntropy(p, t, { reduction: 'none' }), ref, [5], { atol: 1e-5, rtol: 1e-5 });
  });

  it('klDiv with log-probability input, plain and log targets', () => {
    const inp = [Math.log(0.25), Math.log(0.25), Math.log(0.5), Math.log(0.1), Math.log(0.6), Math.log(0.3)];
    const tgt = [0.5, 0, 0.5, 0.2, 0.2, 0.6];
    const pointwise = tgt.map((t, i) => (t > 0 ? t * (Math.log(t) - inp[i]) : 0));
    const x2 = tensor([inp.slice(0, 3), inp.slice(3)]);
    const t2 = tensor([tgt.slice(0, 3), tgt.slice(3)]);
    expectClose(klDiv(x2, t2, { reduction: 'none' }), pointwise, [2, 3]);
    expectClose(klDiv(x2, t2, { reduction: 'batchmean' }), [sum(pointwise) / 2], []);
    expectClose(klDiv(x2, t2), [mean(pointwise)], []);
    const logT = tensor([[Math.log(0.5), Math.log(0.1), Math.log(0.4)]]);
    const r = [0.5, 0.1, 0.4].map((t, i) => t * (Math.log(t) - inp[i]));
    expectClose(klDiv(tensor([inp.slice(0, 3)]), logT, { reduction: 'sum', logTarget: true }), [sum(r)], []);
  });
});
