// The layer modules against reference values: identities with the functional ops, hand-written loops,
// PyTorch's initialization bounds, train vs eval behaviour (BatchNorm, Dropout) and their errors.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/error.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { manualSeed, randomKey } from '../../src/frontend/random.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { conv2d, convTranspose2d, maxPool2d, avgPool2d } from '../../src/frontend/ops/conv.js';
import * as L from '../../src/frontend/nn/layers.js';
import { withRng } from '../../src/frontend/nn/rng.js';
import * as init from '../../src/frontend/nn/init.js';
import { expectAllClose, expectClose, forEachIndex, rand, values } from './helpers.js';

describe('Linear', () => {
  it('equals x @ W^T + b, written out', () => {
    manualSeed(1);
    const lin = new L.Linear(3, 2);
    const x = rand([4, 3], 10);
    const w = values(lin.weight);
    const b = values(lin.bias!);
    const expected: number[] = [];
    for (let i = 0; i < 4; i++) for (let o = 0; o < 2; o++) expected.push(b[o] + [0, 1, 2].reduce((s, k) => s + x.v[i * 3 + k] * w[o * 3 + k], 0));
    expectClose(lin.call(x.t), expected, [4, 2]);
    // Leading batch dims pass through.
    expect(lin.call(rand([2, 5, 3], 11).t).shape).toEqual([2, 5, 2]);
  });

  it('without bias; PyTorch init bounds 1/sqrt(in) for weight and bias', () => {
    manualSeed(2);
    const lin = new L.Linear(16, 8, { bias: false });
    expect(lin.bias).toBeNull();
    expect(lin.parameters()).toHaveLength(1);
    const x = rand([2, 16], 12);
    const w = values(lin.weight);
    expectClose(lin.call(x.t), [0, 1].flatMap((i) => Array.from({ length: 8 }, (_, o) => w.slice(o * 16, o * 16 + 16).reduce((s, v, k) => s + v * x.v[i * 16 + k], 0))), [2, 8]);
    manualSeed(3);
    const big = new L.Linear(25, 40);
    for (const v of [...values(big.weight), ...values(big.bias!)]) expect(Math.abs(v)).toBeLessThanOrEqual(1 / 5);
    // The bound is attained in spread (not all tiny): uniform over the range.
    expect(Math.max(...values(big.weight).map(Math.abs))).toBeGreaterThan(0.18);
  });

  it('reports mismatched features', () => {
    expect(() => new L.Linear(3, 2).call(rand([2, 4], 1).t)).toThrow(KilnError);
  });
});

describe('convolutions and pools', () => {
  it('Conv2d equals the functional conv with its own weight and bias (stride, padding, dilation, groups)', () => {
    manualSeed(4);
    const opts = { stride: 2 as const, padding: 1, dilation: 2 as const, groups: 2 };
    const c = new L.Conv2d(4, 6, [3, 2], opts);
    expect(c.weight.shape).toEqual([6, 2, 3, 2]);
    expect(c.bias!.shape).toEqual([6]);
    const x = rand([2, 4, 7, 6], 13).t;
    const expected = conv2d(x, c.weight, { ...opts, bias: c.bias });
    expectClose(c.call(x), values(expected), expected.shape, { atol: 1e-6, rtol: 1e-6 });
    // PyTorch's bound: 1/sqrt(fanIn), fanIn = (in/groups) * kh * kw = 12.
    for (const v of [...values(c.weight), ...values(c.bias!)]) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(12));
    expect(() => new L.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/groups 2 must divide in \(3\) and out \(4\) channels/);
  });

  it('Conv2d of a hand-computed case (1 channel, 2x2 kernel, no bias)', () => {
    const c = new L.Conv2d(1, 1, 2, { bias: false });
    c.weight = tensor([[[[1, 2], [3, 4]]]]);
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    // out[i][j] = x[i][j] + 2x[i][j+1] + 3x[i+1][j] + 4x[i+1][j+1]
    expectClose(c.call(x), [37, 47, 67, 77], [1, 1, 2, 2]);
  });

  it('ConvTranspose2d has the [in, out/groups, kh, kw] layout and equals the functional op', () => {
    manualSeed(5);
    const opts = { stride: 2 as const, padding: 1, outputPadding: 1 as const };
    const c = new L.ConvTranspose2d(3, 4, 3, opts);
    expect(c.weight.shape).toEqual([3, 4, 3, 3]);
    const x = rand([2, 3, 4, 4], 14).t;
    const expected = convTranspose2d(x, c.weight, { ...opts, bias: c.bias });
    expect(expected.shape).toEqual([2, 4, 8, 8]);
    expectClose(c.call(x), values(expected), expected.shape, { atol: 1e-6, rtol: 1e-6 });
    // Without bias, a 1x1 kernel at stride 1 is a channel mix: out[n,o] = sum_i w[i,o] x[n,i].
    const one = new L.ConvTranspose2d(2, 1, 1, { bias: false });
    one.weight = tensor([[[[2]]], [[[-3]]]]);
    const y = tensor([[[[1, 2]], [[3, 4]]]]);
    expectClose(one.call(y), [2 * 1 - 3 * 3, 2 * 2 - 3 * 4], [1, 1, 1, 2]);
    expect(() => new L.ConvTranspose2d(4, 3, 3, { groups: 2 })).toThrow(/ConvTranspose2d: groups 2 must divide in \(4\) and out \(3\) channels/);
  });

  it('MaxPool2d, AvgPool2d and AdaptiveAvgPool2d', () => {
    const x = rand([1, 2, 4, 4], 15);
    const max: number[] = [];
    const avg: number[] = [];
    forEachIndex([1, 2, 2, 2], ([, c, i, j]) => {
      const win = [0, 1].flatMap((a) => [0, 1].map((b) => x.v[c * 16 + (2 * i + a) * 4 + 2 * j + b]));
      max.push(Math.max(...win));
      avg.push(win.reduce((s, v) => s + v, 0) / 4);
    });
    expectClose(new L.MaxPool2d(2).call(x.t), max, [1, 2, 2, 2]);
    expectClose(new L.AvgPool2d(2).call(x.t), avg, [1, 2, 2, 2]);
    expectClose(new L.AdaptiveAvgPool2d(2).call(x.t), avg, [1, 2, 2, 2]);
    expectClose(new L.AdaptiveAvgPool2d(1).call(x.t), [0, 1].map((c) => x.v.slice(c * 16, c * 16 + 16).reduce((s, v) => s + v, 0) / 16), [1, 2, 1, 1]);
    // Options reach the functional ops.
    expectClose(new L.MaxPool2d(3, { stride: 1, padding: 1 }).call(x.t), values(maxPool2d(x.t, 3, { stride: 1, padding: 1 })), [1, 2, 4, 4]);
    expectClose(new L.AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }).call(x.t), values(avgPool2d(x.t, 3, { stride: 1, padding: 1, countIncludePad: false })), [1, 2, 4, 4]);
  });
});

/** Per-channel mean and biased/unbiased variance of x [N, C, ...spatial] (row-major values). */
function channelStats(v: number[], shape: number[]): { mean: number[]; biased: number[]; unbiased: number[] } {
  const [n, c] = shape;
  const per = shape.slice(2).reduce((a, b) => a * b, 1);
  const mean: number[] = [];
  const biased: number[] = [];
  const unbiased: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < per; k++) xs.push(v[(i * c + ch) * per + k]);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const ss = xs.reduce((a, b) => a + (b - m) ** 2, 0);
    mean.push(m);
    biased.push(ss / xs.length);
    unbiased.push(ss / (xs.length - 1));
  }
  return { mean, biased, unbiased };
}

function normalizeChannels(v: number[], shape: number[], mean: number[], variance: number[], w: number[], b: number[], eps = 1e-5): number[] {
  const c = shape[1];
  const per = shape.slice(2).reduce((a, b2) => a * b2, 1);
  return v.map((x, i) => {
    const ch = Math.floor(i / per) % c;
    return ((x - mean[ch]) / Math.sqrt(variance[ch] + eps)) * w[ch] + b[ch];
  });
}

describe('BatchNorm', () => {
  it('BatchNorm2d in training normalizes with batch statistics and updates running ones with momentum and unbiased variance', () => {
    const bn = new L.BatchNorm2d(3);
    bn.weight = tensor([1.5, -0.5, 2]);
    bn.bias = tensor([0.25, 1, -1]);
    const shape = [2, 3, 2, 2];
    const x1 = rand(shape, 20, -2, 3);
    const s1 = channelStats(x1.v, shape);
    expectClose(bn.call(x1.t), normalizeChannels(x1.v, shape, s1.mean, s1.biased, [1.5, -0.5, 2], [0.25, 1, -1]), shape, { atol: 1e-5, rtol: 1e-4 });
    let rm = s1.mean.map((m) => 0.9 * 0 + 0.1 * m);
    let rv = s1.unbiased.map((v) => 0.9 * 1 + 0.1 * v);
    expectAllClose(values(bn.runningMean), rm, 1e-6);
    expectAllClose(values(bn.runningVar), rv, 1e-6);
    // A second step compounds: r = (1 - m) r + m * stat.
    const x2 = rand(shape, 21, -1, 4);
    const s2 = channelStats(x2.v, shape);
    bn.call(x2.t);
    rm = rm.map((r, c) => 0.9 * r + 0.1 * s2.mean[c]);
    rv = rv.map((r, c) => 0.9 * r + 0.1 * s2.unbiased[c]);
    expectAllClose(values(bn.runningMean), rm, 1e-6);
    expectAllClose(values(bn.runningVar), rv, 1e-6);
    // Eval mode: running statistics, and they stay put.
    bn.eval();
    const x3 = rand(shape, 22);
    expectClose(bn.call(x3.t), normalizeChannels(x3.v, shape, rm, rv, [1.5, -0.5, 2], [0.25, 1, -1]), shape, { atol: 1e-5, rtol: 1e-4 });
    expectAllClose(values(bn.runningMean), rm, 1e-6);
    expect(bn.runningMean.requiresGrad).toBe(false);
  });

  it('BatchNorm1d on [N, C] and [N, C, L]; the momentum option; trackRunningStats: false uses batch statistics in eval', () => {
    const bn = new L.BatchNorm1d(2, { momentum: 0.5, affine: false });
    expect(bn.parameters()).toHaveLength(0);
    const x = rand([5, 2], 23);
    const s = channelStats(x.v, [5, 2]);
    expectClose(bn.call(x.t), normalizeChannels(x.v, [5, 2], s.mean, s.biased, [1, 1], [0, 0]), [5, 2], { atol: 1e-5, rtol: 1e-4 });
    expectAllClose(values(bn.runningMean), s.mean.map((m) => 0.5 * m), 1e-6);
    expectAllClose(values(bn.runningVar), s.unbiased.map((v) => 0.5 + 0.5 * v), 1e-6);
    const x3 = rand([2, 2, 3], 24);
    const s3 = channelStats(x3.v, [2, 2, 3]);
    expectClose(bn.call(x3.t), normalizeChannels(x3.v, [2, 2, 3], s3.mean, s3.biased, [1, 1], [0, 0]), [2, 2, 3], { atol: 1e-5, rtol: 1e-4 });

    const free = new L.BatchNorm1d(2, { trackRunningStats: false });
    free.eval();
    expectClose(free.call(x.t), normalizeChannels(x.v, [5, 2], s.mean, s.biased, [1, 1], [0, 0]), [5, 2], { atol: 1e-5, rtol: 1e-4 });
    expect(values(free.runningMean)).toEqual([0, 0]);
  });

  it('reports a wrong rank or channel count', () => {
    expect(() => new L.BatchNorm2d(3).call(rand([2, 3, 4], 1).t)).toThrow(/BatchNorm2d: expects input of rank 4, got f32\[2,3,4\]/);
    expect(() => new L.BatchNorm1d(3).call(rand([2, 4], 1).t)).toThrow(/BatchNorm1d: expects 3 channels, got f32\[2,4\]/);
  });
});

describe('LayerNorm and GroupNorm', () => {
  it('LayerNorm over the trailing dims with affine parameters', () => {
    const ln = new L.LayerNorm([2, 3]);
    expect(ln.weight!.shape).toEqual([2, 3]);
    ln.weight = rand([2, 3], 30, 0.5, 1.5).t;
    ln.bias = rand([2, 3], 31).t;
    const x = rand([2, 2, 3], 32, -3, 3);
    const w = values(ln.weight);
    const b = values(ln.bias);
    const expected: number[] = [];
    for (let r = 0; r < 2; r++) {
      const xs = x.v.slice(r * 6, r * 6 + 6);
      const m = xs.reduce((a, c) => a + c, 0) / 6;
      const v = xs.reduce((a, c) => a + (c - m) ** 2, 0) / 6;
      xs.forEach((xi, k) => expected.push(((xi - m) / Math.sqrt(v + 1e-5)) * w[k] + b[k]));
    }
    expectClose(ln.call(x.t), expected, [2, 2, 3], { atol: 1e-5, rtol: 1e-4 });
    const plain = new L.LayerNorm(3, { elementwiseAffine: false, eps: 0.5 });
    expect(plain.parameters()).toHaveLength(0);
    const y = values(plain.call(tensor([[1, 2, 6]])));
    const m = 3;
    const v = (4 + 1 + 9) / 3;
    expectAllClose(y, [1, 2, 6].map((t) => (t - m) / Math.sqrt(v + 0.5)), 1e-6);
  });

  it('GroupNorm normalizes groups of channels with the spatial dims', () => {
    const gn = new L.GroupNorm(2, 4);
    gn.weight = tensor([1, 2, 3, 4]);
    gn.bias = tensor([0.5, 0.5, -0.5, -0.5]);
    const x = rand([2, 4, 3], 33, -2, 2);
    const expected: number[] = new Array(24);
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < 2; g++) {
        const base = n * 12 + g * 6;
        const xs = x.v.slice(base, base + 6);
        const m = xs.reduce((a, c) => a + c, 0) / 6;
        const v = xs.reduce((a, c) => a + (c - m) ** 2, 0) / 6;
        xs.forEach((xi, k) => {
          const ch = g * 2 + Math.floor(k / 3);
          expected[base + k] = ((xi - m) / Math.sqrt(v + 1e-5)) * [1, 2, 3, 4][ch] + [0.5, 0.5, -0.5, -0.5][ch];
        });
      }
    }
    expectClose(gn.call(x.t), expected, [2, 4, 3], { atol: 1e-5, rtol: 1e-4 });
    expect(() => new L.GroupNorm(3, 4).call(rand([1, 4, 2], 1).t)).toThrow(KilnError);
  });
});

describe('Dropout', () => {
  it('drops in training and is the identity in eval; kept elements are scaled by 1/(1-p)', () => {
    manualSeed(40);
    const d = new L.Dropout(0.25);
    const x = rand([4000], 41, 0.5, 1.5);
    const y = values(d.call(x.t));
    let zeros = 0;
    y.forEach((v, i) => {
      if (v === 0) zeros++;
      else expect(Math.abs(v - x.v[i] / 0.75)).toBeLessThan(1e-6);
    });
    expect(zeros / 4000).toBeGreaterThan(0.2);
    expect(zeros / 4000).toBeLessThan(0.3);
    d.eval();
    expect(d.call(x.t)).toBe(x.t);
    expect(new L.Dropout(0).call(x.t)).toBe(x.t);
    expect(() => new L.Dropout(1)).toThrow(/Dropout: p must be in \[0, 1\), got 1/);
  });

  it('draws a fresh mask per call from the global seed, repeatably after manualSeed', () => {
    const d = new L.Dropout(0.5);
    const x = rand([64], 42, 1, 2).t;
    manualSeed(7);
    const a = values(d.call(x));
    const b = values(d.call(x));
    expect(a).not.toEqual(b);
    manualSeed(7);
    expect(values(d.call(x))).toEqual(a);
  });

  it('withRng: the scoped key decides the masks (each draw splits it), and under jit it is required', () => {
    const d = new L.Dropout(0.5);
    const x = rand([64], 43, 1, 2).t;
    const k1 = randomKey(1);
    const twice = (key: Tensor) => withRng(key, () => [values(d.call(x)), values(d.call(x))]);
    const [a1, a2] = twice(k1);
    expect(a1).not.toEqual(a2);
    expect(twice(randomKey(1))).toEqual([a1, a2]);
    expect(twice(randomKey(2))[0]).not.toEqual(a1);
    const f = jit((t: Tensor, key: Tensor) => withRng(key, () => d.call(t) as Tensor));
    expect(values(f(x, randomKey(1)))).toEqual(a1);
    expect(values(f(x, randomKey(2)))).not.toEqual(a1);
    expect(f.stats().traces).toBe(1);
    const bad = jit((t: Tensor) => d.call(t) as Tensor);
    expect(() => bad(x)).toThrow(/Dropout: under jit, randomness needs a key that is an input of the function/);
    // In eval mode no key is needed under jit.
    d.eval();
    expect(values(bad(x))).toEqual(values(x));
  });
});

describe('Embedding, Flatten, Sequential and activations', () => {
  it('Embedding looks up rows of its weight (N(0, 1) init) and wants int32 indices', () => {
    manualSeed(50);
    const e = new L.Embedding(5, 3);
    const w = values(e.weight);
    const idx = tensor([[4, 0], [2, 2]], { dtype: 'int32' });
    expectClose(e.call(idx), [4, 0, 2, 2].flatMap((r) => w.slice(r * 3, r * 3 + 3)), [2, 2, 3]);
    expect(() => e.call(tensor([1.5]))).toThrow(/Embedding: indices must be int32, got f32\[1\]/);
    expect(() => e.call(tensor([5], { dtype: 'int32' }))).toThrow(KilnError);
    const big = values(new L.Embedding(100, 20).weight);
    const mean = big.reduce((a, b) => a + b, 0) / big.length;
    const std = Math.sqrt(big.reduce((a, b) => a + (b - mean) ** 2, 0) / big.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(std - 1)).toBeLessThan(0.1);
  });

  it('Flatten keeps dims outside [startDim, endDim]', () => {
    const x = rand([2, 3, 4, 5], 51).t;
    expect(new L.Flatten().call(x).shape).toEqual([2, 60]);
    expect(new L.Flatten(0, 1).call(x).shape).toEqual([6, 4, 5]);
    expect(new L.Flatten(1, -2).call(x).shape).toEqual([2, 12, 5]);
    expect(values(new L.Flatten().call(x))).toEqual(values(x));
    expect(() => new L.Flatten(3, 1).call(x)).toThrow(/Flatten: dims 3..1 out of range for f32\[2,3,4,5\]/);
  });

  it('Sequential chains its layers', () => {
    manualSeed(52);
    const a = new L.Linear(3, 4);
    const b = new L.Linear(4, 2);
    const s = new L.Sequential(a, new L.ReLU(), b);
    const x = rand([2, 3], 53).t;
    expect(values(s.call(x))).toEqual(values(b.call(a.call(x).relu())));
    expect(s.parameters()).toHaveLength(4);
  });

  it('activation modules match their formulas', () => {
    const x = rand([10], 54, -3, 3);
    const erf = (z: number) => {
      // Abramowitz-Stegun 7.1.26 is too coarse; integrate instead (Simpson, 2000 steps).
      const n = 2000;
      const h = z / n;
      let s = 0;
      for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
      return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
    };
    const cases: [Tensor, (v: number) => number][] = [
      [new L.ReLU().call(x.t), (v) => Math.max(0, v)],
      [new L.Tanh().call(x.t), Math.tanh],
      [new L.Sigmoid().call(x.t), (v) => 1 / (1 + Math.exp(-v))],
      [new L.SiLU().call(x.t), (v) => v / (1 + Math.exp(-v))],
      [new L.GELU().call(x.t), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
      [new L.GELU('tanh').call(x.t), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
      [new L.LeakyReLU().call(x.t), (v) => (v > 0 ? v : 0.01 * v)],
      [new L.LeakyReLU(0.2).call(x.t), (v) => (v > 0 ? v : 0.2 * v)],
    ];
    for (const [y, f] of cases) expectClose(y, x.v.map(f), [10], { atol: 1e-6, rtol: 1e-5 });
    const m = rand([2, 3], 55);
    const sm = values(new L.Softmax(0).call(m.t));
    for (let j = 0; j < 3; j++) {
      const e = [Math.exp(m.v[j]), Math.exp(m.v[3 + j])];
      expectAllClose([sm[j], sm[3 + j]], e.map((v) => v / (e[0] + e[1])), 1e-6);
    }
  });
});

describe('init', () => {
  it('fans and gains follow PyTorch', () => {
    expect(init.fans([8, 4, 3, 3])).toEqual([36, 72]);
    expect(init.fans([5, 7])).toEqual([7, 5]);
    expect(() => init.fans([5])).toThrow(KilnError);
    expect(init.gain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(init.gain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.gain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(init.gain('linear')).toBe(1);
  });

  it('bounds and spreads of the random initializers; keys make them repeatable', () => {
    const within = (t: Tensor, bound: number) => values(t).every((v) => Math.abs(v) <= bound * (1 + 1e-6));
    const stdOf = (t: Tensor) => {
      const v = values(t);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    };
    manualSeed(60);
    expect(within(init.kaimingUniform([64, 32], { nonlinearity: 'relu' }), Math.SQRT2 * Math.sqrt(3 / 32))).toBe(true);
    expect(within(init.kaimingUniform([64, 32], { mode: 'fanOut', nonlinearity: 'relu' }), Math.SQRT2 * Math.sqrt(3 / 64))).toBe(true);
    expect(within(init.xavierUniform([64, 32]), Math.sqrt(6 / 96))).toBe(true);
    expect(stdOf(init.kaimingNormal([200, 50], { nonlinearity: 'relu' }))).toBeCloseTo(Math.SQRT2 / Math.sqrt(50), 2);
    expect(stdOf(init.xavierNormal([200, 50], { gain: 2 }))).toBeCloseTo(2 * Math.sqrt(2 / 250), 2);
    expect(stdOf(init.normal([100, 100], 3, 0.5))).toBeCloseTo(0.5, 1);
    const u = values(init.uniform([1000], 2, 5));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThan(5);
    expect(values(init.zeros([3]))).toEqual([0, 0, 0]);
    expect(values(init.ones([2]))).toEqual([1, 1]);
    expect(values(init.constant([2], 2.5))).toEqual([2.5, 2.5]);
    expect(values(init.kaimingUniform([4, 4], { key: randomKey(3) }))).toEqual(values(init.kaimingUniform([4, 4], { key: randomKey(3) })));
  });
});
