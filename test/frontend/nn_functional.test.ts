import { describe, expect, it } from 'vitest';
import {
  batchNorm, dropout, elu, gelu, groupNorm, hardSigmoid, hardSwish, hardtanh, layerNorm, leakyRelu, linear,
  logSigmoid, logSoftmax, mish, normalize, relu6, rmsNorm, selu, silu, softmax, softplus, softsign,
} from '../../src/frontend/ops/nn_functional.js';
import { erfRef } from './erf_ref.js';
import { expectClose, forEachIndex, fromFlat, rand, tensor } from './nn_test_util.js';

const rows = (v: number[], n: number) => Array.from({ length: v.length / n }, (_, i) => v.slice(i * n, (i + 1) * n));
const softmaxRow = (r: number[]) => {
  const m = Math.max(...r);
  const e = r.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

describe('softmax family', () => {
  const x = rand([4, 5], 501, 'float32', -3, 3);

  it('softmax matches the formula and rows sum to 1', () => {
    const y = softmax(x.t);
    expectClose(y, rows(x.v, 5).flatMap(softmaxRow), [4, 5]);
    rows([...y.dataSync()], 5).forEach((r) => expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6));
  });

  it('softmax along another axis, and as a method', () => {
    const cols: number[] = [];
    const t = rows(x.v, 5);
    const colSm = [0, 1, 2, 3, 4].map((j) => softmaxRow(t.map((r) => r[j])));
    forEachIndex([4, 5], ([i, j]) => cols.push(colSm[j][i]));
    expectClose(softmax(x.t, { axis: 0 }), cols, [4, 5]);
    expectClose(x.t.softmax({ axis: -2 }), cols, [4, 5]);
  });

  it('logSoftmax is log of softmax', () => {
    const expected = rows(x.v, 5).flatMap((r) => softmaxRow(r).map(Math.log));
    expectClose(logSoftmax(x.t), expected, [4, 5]);
    expectClose(x.t.logSoftmax(), expected, [4, 5]);
  });

  it('stays finite and exact at ±1e4', () => {
    const big = tensor([[1e4, -1e4, 0], [1e4, 1e4, -1e4]]);
    expectClose(softmax(big), [1, 0, 0, 0.5, 0.5, 0], [2, 3]);
    expectClose(logSoftmax(big), [0, -2e4, -1e4, -Math.LN2, -Math.LN2, -2e4 - Math.LN2], [2, 3]);
  });

  it('reports a bad axis', () => {
    expect(() => softmax(x.t, { axis: 2 })).toThrow('softmax: axis 2 is out of range for a tensor of rank 2');
    expect(() => softmax(x.t, 1 as never)).toThrow('softmax: optional arguments go in an options object {axis}');
  });
});

describe('activations', () => {
  const v = [-1e4, -20, -3, -1, -0.5, -0.125, 0.25, 0.75, 2, 5, 30, 1e4];
  const x = tensor(v);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const softplusRef = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  const table: [string, (t: typeof x) => ReturnType<typeof gelu>, (z: number) => number][] = [
    ['gelu (erf)', (t) => gelu(t), (z) => 0.5 * z * (1 + erfRef(z / Math.SQRT2))],
    ['gelu (tanh)', (t) => gelu(t, { approximate: 'tanh' }), (z) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)))],
    ['silu', silu, (z) => z * sig(z)],
    ['leakyRelu', (t) => leakyRelu(t), (z) => (z > 0 ? z : 0.01 * z)],
    ['leakyRelu 0.2', (t) => leakyRelu(t, { negativeSlope: 0.2 }), (z) => (z > 0 ? z : 0.2 * z)],
    ['elu', (t) => elu(t), (z) => (z > 0 ? z : Math.expm1(z))],
    ['elu alpha 2', (t) => elu(t, { alpha: 2 }), (z) => (z > 0 ? z : 2 * Math.expm1(z))],
    ['selu', selu, (z) => 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * Math.expm1(z))],
    ['softplus', (t) => softplus(t), softplusRef],
    ['softplus beta 2', (t) => softplus(t, { beta: 2 }), (z) => (2 * z > 20 ? z : softplusRef(2 * z) / 2)],
    ['logSigmoid', logSigmoid, (z) => Math.min(z, 0) - Math.log1p(Math.exp(-Math.abs(z)))],
    ['mish', mish, (z) => z * Math.tanh(softplusRef(z))],
    ['hardtanh', (t) => hardtanh(t), (z) => Math.min(Math.max(z, -1), 1)],
    ['hardtanh [-2, 3]', (t) => hardtanh(t, { minVal: -2, maxVal: 3 }), (z) => Math.min(Math.max(z, -2), 3)],
    ['relu6', relu6, (z) => Math.min(Math.max(z, 0), 6)],
    ['hardSigmoid', hardSigmoid, (z) => Math.min(Math.max(z + 3, 0), 6) / 6],
    ['hardSwish', hardSwish, (z) => (z * Math.min(Math.max(z + 3, 0), 6)) / 6],
    ['softsign', softsign, (z) => z / (1 + Math.abs(z))],
  ];
  for (const [name, fn, ref] of table) {
    it(`${name} matches its formula, finite at ±1e4`, () => {
      const y = fn(x);
      expect([...y.dataSync()].every(Number.isFinite)).toBe(true);
      expectClose(y, v.map(ref), [v.length], { atol: 1e-6, rtol: 1e-5 });
    });
  }

  it('are methods too', () => {
    expectClose(x.gelu(), [...gelu(x).dataSync()]);
    expectClose(x.silu(), [...silu(x).dataSync()]);
    expectClose(x.softplus({ beta: 2 }), [...softplus(x, { beta: 2 }).dataSync()]);
    expectClose(x.leakyRelu({ negativeSlope: 0.1 }), [...leakyRelu(x, { negativeSlope: 0.1 }).dataSync()]);
    expectClose(x.elu(), [...elu(x).dataSync()]);
    expectClose(x.logSigmoid(), [...logSigmoid(x).dataSync()]);
    expectClose(x.hardtanh(), [...hardtanh(x).dataSync()]);
    expectClose(x.relu6(), [...relu6(x).dataSync()]);
    expectClose(x.mish(), [...mish(x).dataSync()]);
  });

  it('reports bad options', () => {
    expect(() => gelu(x, { approximate: 'fast' as never })).toThrow("gelu: approximate must be 'none' or 'tanh', got 'fast'");
    expect(() => hardtanh(x, { minVal: 2, maxVal: 1 })).toThrow('hardtanh: minVal 2 is larger than maxVal 1');
  });
});

describe('linear', () => {
  const x = rand([2, 3, 4], 601);
  const w = rand([5, 4], 602);
  const b = [0.5, -0.25, 1, 2, -3];
  const ref = (bias: number[] | null) => {
    const out: number[] = [];
    forEachIndex([2, 3, 5], ([i, j, o]) => {
      let s = bias ? bias[o] : 0;
      for (let k = 0; k < 4; k++) s += x.v[(i * 3 + j) * 4 + k] * w.v[o * 4 + k];
      out.push(s);
    });
    return out;
  };

  it('computes x @ w^T (+ bias) with weights [out, in]', () => {
    expectClose(linear(x.t, w.t), ref(null), [2, 3, 5]);
    expectClose(linear(x.t, w.t, b), ref(b), [2, 3, 5]);
    expectClose(linear(x.t, w.t, { bias: tensor(b) }), ref(b), [2, 3, 5]);
  });

  it('reports mismatched features', () => {
    expect(() => linear(x.t, rand([5, 3], 1).t)).toThrow('linear: f32[2,3,4] @ f32[5,3]^T: input features 4 and weight in_features 3 differ');
    expect(() => linear(x.t, w.t, [1, 2])).toThrow('linear: bias must be [5], got f32[2]');
  });
});

describe('dropout', () => {
  const x = rand([64, 64], 701, 'float32', 0.5, 1.5);

  it('is the identity in evaluation mode and for p = 0', () => {
    expect(dropout(x.t, 0.5, { training: false })).toBe(x.t);
    expect(dropout(x.t, 0, { key: 1 })).toBe(x.t);
    expectClose(dropout(x.t, 1, { key: 1 }), new Array(64 * 64).fill(0), [64, 64]);
  });

  it('zeroes about p of the elements and scales the rest by 1/(1-p)', () => {
    const p = 0.3;
    const y = [...dropout(x.t, p, { key: tensor([3, 7], { dtype: 'int32' }) }).dataSync()];
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(Math.abs(zeros - p)).toBeLessThan(0.03);
    y.forEach((v, i) => {
      if (v !== 0) expect(v).toBeCloseTo(x.v[i] / (1 - p), 5);
    });
  });

  it('is deterministic in its key', () => {
    const a = [...dropout(x.t, 0.5, { key: 42 }).dataSync()];
    const b = [...dropout(x.t, 0.5, { key: 42 }).dataSync()];
    const c = [...dropout(x.t, 0.5, { key: 43 }).dataSync()];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('asks for a key when it would drop', () => {
    expect(() => dropout(x.t, 0.5)).toThrow('dropout: needs a random key in training mode: dropout(x, p, {key}) (or {training: false})');
    expect(() => dropout(x.t, 1.5, { key: 1 })).toThrow('dropout: p must be in [0, 1], got 1.5');
  });
});

/** Normalizes groups of `n` consecutive values (biased variance). */
const standardizeRef = (v: number[], n: number, eps: number) =>
  rows(v, n).flatMap((r) => {
    const m = r.reduce((a, b) => a + b, 0) / n;
    const varr = r.reduce((a, b) => a + (b - m) ** 2, 0) / n;
    return r.map((z) => (z - m) / Math.sqrt(varr + eps));
  });

describe('normalization', () => {
  it('layerNorm over the trailing dims, with affine parameters', () => {
    const x = rand([2, 3, 4], 801, 'float32', -2, 3);
    expectClose(layerNorm(x.t, 4), standardizeRef(x.v, 4, 1e-5), [2, 3, 4], { atol: 1e-5, rtol: 1e-4 });
    const w = rand([3, 4], 802);
    const b = rand([3, 4], 803);
    const base = standardizeRef(x.v, 12, 1e-3);
    const expected = base.map((z, i) => z * w.v[i % 12] + b.v[i % 12]);
    expectClose(layerNorm(x.t, [3, 4], { weight: w.t, bias: b.t, eps: 1e-3 }), expected, [2, 3, 4], { atol: 1e-5, rtol: 1e-4 });
    expect(() => layerNorm(x.t, [4, 3])).toThrow('layerNorm: normalizedShape [4,3] must match the trailing dims of f32[2,3,4]');
    expect(() => layerNorm(x.t, 4, w.t as never)).toThrow('layerNorm: optional arguments go in an options object {weight, bias, eps}, got f32[3,4]');
  });

  it('rmsNorm', () => {
    const x = rand([3, 4], 804);
    const w = [1, 2, 0.5, -1];
    const expected = rows(x.v, 4).flatMap((r) => {
      const ms = r.reduce((a, b) => a + b * b, 0) / 4;
      return r.map((z, j) => (z / Math.sqrt(ms + 1e-6)) * w[j]);
    });
    expectClose(rmsNorm(x.t, 4, { weight: w }), expected, [3, 4], { atol: 1e-5, rtol: 1e-4 });
  });

  it('batchNorm with running statistics and with batch statistics', () => {
    const x = rand([4, 3, 2, 2], 805, 'float32', -1, 2);
    const mean = [0.5, -0.25, 1];
    const variance = [2, 0.5, 1.5];
    const w = [1.5, -1, 0.5];
    const b = [0.1, 0.2, 0.3];
    const evalRef: number[] = [];
    forEachIndex([4, 3, 2, 2], ([, c], i) => evalRef.push(((x.v[i] - mean[c]) / Math.sqrt(variance[c] + 1e-5)) * w[c] + b[c]));
    expectClose(batchNorm(x.t, mean, variance, { weight: w, bias: b }), evalRef, [4, 3, 2, 2], { atol: 1e-5, rtol: 1e-4 });
    // Training mode: per-channel statistics over N, H, W.
    const stats = [0, 1, 2].map((c) => {
      const vals: number[] = [];
      forEachIndex([4, 3, 2, 2], ([, cc], i) => cc === c && vals.push(x.v[i]));
      const m = vals.reduce((a, z) => a + z, 0) / vals.length;
      return [m, vals.reduce((a, z) => a + (z - m) ** 2, 0) / vals.length];
    });
    const trainRef: number[] = [];
    forEachIndex([4, 3, 2, 2], ([, c], i) => trainRef.push((x.v[i] - stats[c][0]) / Math.sqrt(stats[c][1] + 1e-5)));
    expectClose(batchNorm(x.t, null, null, { training: true }), trainRef, [4, 3, 2, 2], { atol: 1e-5, rtol: 1e-4 });
    expect(() => batchNorm(x.t, [1, 2], variance)).toThrow('batchNorm: runningMean must be [3] for f32[4,3,2,2], got f32[2]');
    expect(() => batchNorm(x.t, null, null)).toThrow('batchNorm: evaluation mode needs runningMean and runningVar');
  });

  it('groupNorm normalizes channel groups with spatial dims', () => {
    const x = rand([2, 4, 3], 806, 'float32', -1, 2);
    const w = [1, 2, 3, 4];
    const b = [-1, 0, 1, 2];
    const expected = standardizeRef(x.v, 6, 1e-5).map((z, i) => {
      const c = Math.floor(i / 3) % 4;
      return z * w[c] + b[c];
    });
    expectClose(groupNorm(x.t, 2, { weight: w, bias: b }), expected, [2, 4, 3], { atol: 1e-5, rtol: 1e-4 });
    expect(() => groupNorm(x.t, 3)).toThrow('groupNorm: numGroups 3 must divide the 4 channels of f32[2,4,3]');
  });

  it('normalize divides by the p-norm along an axis', () => {
    const x = fromFlat([3, 4, -6, 8], [2, 2]);
    expectClose(normalize(x), [0.6, 0.8, -0.6, 0.8], [2, 2]);
    expectClose(normalize(x, { axis: 0 }), [3 / Math.hypot(3, -6), 4 / Math.hypot(4, 8), -6 / Math.hypot(3, -6), 8 / Math.hypot(4, 8)], [2, 2]);
    expectClose(normalize(x, { axis: -1, p: 1 }), [3 / 7, 4 / 7, -6 / 14, 8 / 14], [2, 2]);
    expectClose(normalize(fromFlat([1e-20, 0.5], [2]), { axis: 0, eps: 1 }), [1e-20, 0.5], [2]);
  });
});
