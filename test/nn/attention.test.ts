// Attention against explicit loops: softmax(q k^T / sqrt(d)) v with masks, MultiheadAttention head by head
// (PyTorch's packed in-projection), TransformerEncoderLayer as the composition of its parts, jit, checkGrad.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/error.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { manualSeed, randomKey } from '../../src/frontend/random.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { checkGrad } from '../../src/frontend/autograd/check.js';
import { matmul } from '../../src/frontend/ops/linalg.js';
import { dropout, softmax } from '../../src/frontend/ops/nn_functional.js';
import { transpose, concat } from '../../src/frontend/ops/shape.js';
import { withRng } from '../../src/frontend/nn/rng.js';
import { parameter } from '../../src/frontend/nn/module.js';
import { scaledDotProductAttention, MultiheadAttention, TransformerEncoderLayer } from '../../src/frontend/nn/attention.js';
import { expectAllClose, expectModuleGrad, flat, rand, values } from './helpers.js';

/**
 * Reference attention for one (batch, head): q [L][E], k [S][E], v [S][Ev] as nested arrays; `allowed(i, j)`
 * and `bias(i, j)` describe masks. Returns output [L][Ev] and weights [L][S].
 */
interface RefMasks {
  scale?: number;
  allowed?: (i: number, j: number) => boolean;
  bias?: (i: number, j: number) => number;
}
function attendRef(q: number[][], k: number[][], v: number[][], { scale = 1 / Math.sqrt(q[0].length), allowed = () => true, bias = () => 0 }: RefMasks = {}) {
  const weights = q.map((qi, i) => {
    const s = k.map((kj, j) => (allowed(i, j) ? qi.reduce((a, x, e) => a + x * kj[e], 0) * scale + bias(i, j) : -Infinity));
    const m = Math.max(...s);
    const ex = s.map((x) => Math.exp(x - m));
    const z = ex.reduce((a, b) => a + b, 0);
    return ex.map((x) => x / z);
  });
  const out = weights.map((w) => v[0].map((_, e) => w.reduce((a, wj, j) => a + wj * v[j][e], 0)));
  return { out, weights };
}

/** Nested rows of a row-major block: `rows` rows of `cols` starting at `offset`. */
const rowsOf = (v: number[], offset: number, rows: number, cols: number, stride = cols) => Array.from({ length: rows }, (_, r) => v.slice(offset + r * stride, offset + r * stride + cols));

describe('scaledDotProductAttention', () => {
  it('equals softmax(q k^T / sqrt(E)) v over leading batch dims', () => {
    const q = rand([2, 3, 4], 1, -2, 2);
    const k = rand([2, 5, 4], 2, -2, 2);
    const v = rand([2, 5, 3], 3);
    const y = scaledDotProductAttention(q.t, k.t, v.t);
    expect(y.shape).toEqual([2, 3, 3]);
    const expected = [0, 1].flatMap((b) => attendRef(rowsOf(q.v, b * 12, 3, 4), rowsOf(k.v, b * 20, 5, 4), rowsOf(v.v, b * 15, 5, 3)).out.flat());
    expectAllClose(values(y), expected, 1e-5);
  });

  it('causal, bool (true = take part) and float masks, and a custom scale', () => {
    const q = rand([4, 2], 4, -2, 2);
    const k = rand([5, 2], 5, -2, 2);
    const v = rand([5, 2], 6);
    const [Q, K, V] = [rowsOf(q.v, 0, 4, 2), rowsOf(k.v, 0, 5, 2), rowsOf(v.v, 0, 5, 2)];
    expectAllClose(values(scaledDotProductAttention(q.t, k.t, v.t, { isCausal: true })), attendRef(Q, K, V, { allowed: (i, j) => j <= i }).out.flat(), 1e-5);
    const allowed = (i: number, j: number) => (i + 2 * j) % 3 !== 0;
    const boolMask = tensor(Array.from({ length: 4 }, (_, i) => Array.from({ length: 5 }, (_, j) => allowed(i, j))));
    expectAllClose(values(scaledDotProductAttention(q.t, k.t, v.t, { attnMask: boolMask, scale: 0.3 })), attendRef(Q, K, V, { allowed, scale: 0.3 }).out.flat(), 1e-5);
    const fm = rand([4, 5], 7, -1, 1);
    expectAllClose(values(scaledDotProductAttention(q.t, k.t, v.t, { attnMask: fm.t })), attendRef(Q, K, V, { bias: (i, j) => fm.v[i * 5 + j] }).out.flat(), 1e-5);
  });

  it('dropout on the weights with a key (or the rng scope), and the shape errors', () => {
    const q = rand([2, 3, 4], 8).t;
    const k = rand([2, 3, 4], 9).t;
    const v = rand([2, 3, 4], 10).t;
    const key = randomKey(5);
    const w = softmax(matmul(q, transpose(k, [0, 2, 1])).mul(0.5), { axis: -1 });
    const expected = matmul(dropout(w, 0.5, { key }), v);
    expectAllClose(values(scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key })), values(expected), 1e-6);
    const scoped = (s: number) => values(withRng(randomKey(s), () => scaledDotProductAttention(q, k, v, { dropoutP: 0.5 })));
    expect(scoped(1)).toEqual(scoped(1));
    expect(scoped(1)).not.toEqual(scoped(2));
    expect(() => scaledDotProductAttention(q, rand([2, 3, 5], 1).t, v)).toThrow(/scaledDotProductAttention: query f32\[2,3,4\] and key f32\[2,3,5\] differ in their last dimension/);
    expect(() => scaledDotProductAttention(q, k, rand([2, 4, 4], 1).t)).toThrow(/differ in their sequence length/);
    expect(() => scaledDotProductAttention(q, k, v, { dropoutP: 1 })).toThrow(KilnError);
  });
});

/** MultiheadAttention by hand: per-head projections from the packed weights, attention, concat, out-projection. */
function mhaRef(m: MultiheadAttention, qv: number[], kv: number[], vv: number[], [L, S, N, E]: number[], opts: { allowed?: (n: number, h: number, i: number, j: number) => boolean; bias?: (n: number, h: number, i: number, j: number) => number } = {}) {
  const W = values(m.inProjWeight);
  const B = values(m.inProjBias!);
  const Wo = values(m.outProj.weight);
  const Bo = values(m.outProj.bias!);
  const H = m.numHeads;
  const d = E / H;
  // x is [T, N, E]; projection p (0 q, 1 k, 2 v) of position t, batch n.
  const proj = (x: number[], p: number, t: number, n: number) => Array.from({ length: E }, (_, o) => x.slice((t * N + n) * E, (t * N + n + 1) * E).reduce((a, xe, e) => a + xe * W[(p * E + o) * E + e], B[p * E + o]));
  const out: number[] = new Array(L * N * E);
  const avgW: number[] = new Array(N * L * S).fill(0);
  for (let n = 0; n < N; n++) {
    const Q = Array.from({ length: L }, (_, t) => proj(qv, 0, t, n));
    const K = Array.from({ length: S }, (_, t) => proj(kv, 1, t, n));
    const V = Array.from({ length: S }, (_, t) => proj(vv, 2, t, n));
    const concatHeads: number[][] = Array.from({ length: L }, () => []);
    for (let h = 0; h < H; h++) {
      const sl = (rows: number[][]) => rows.map((r) => r.slice(h * d, (h + 1) * d));
      const r = attendRef(sl(Q), sl(K), sl(V), { allowed: (i, j) => opts.allowed?.(n, h, i, j) ?? true, bias: (i, j) => opts.bias?.(n, h, i, j) ?? 0 });
      r.out.forEach((row, i) => concatHeads[i].push(...row));
      r.weights.forEach((row, i) => row.forEach((w, j) => (avgW[(n * L + i) * S + j] += w / H)));
    }
    concatHeads.forEach((row, i) => {
      for (let o = 0; o < E; o++) out[(i * N + n) * E + o] = row.reduce((a, x, e) => a + x * Wo[o * E + e], Bo[o]);
    });
  }
  return { out, avgW };
}

/** Gives the (zero-initialized) biases values, so the reference checks that they are used. */
function randomizeBiases(m: MultiheadAttention, seed: number): void {
  m.inProjBias = parameter(rand([3 * m.embedDim], seed).t);
  m.outProj.bias = parameter(rand([m.embedDim], seed + 1).t);
}

describe('MultiheadAttention', () => {
  it('has PyTorch parameters (packed in-projection, zero biases) and matches the head-by-head computation', () => {
    manualSeed(20);
    const m = new MultiheadAttention(6, 2);
    expect(Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({
      inProjWeight: [18, 6], inProjBias: [18], 'outProj.weight': [6, 6], 'outProj.bias': [6],
    });
    expect(values(m.inProjBias!).every((v) => v === 0) && values(m.outProj.bias!).every((v) => v === 0)).toBe(true);
    for (const v of values(m.inProjWeight)) expect(Math.abs(v)).toBeLessThanOrEqual(Math.sqrt(6 / 24));
    randomizeBiases(m, 21);
    const [L, S, N, E] = [3, 4, 2, 6];
    const q = rand([L, N, E], 22);
    const k = rand([S, N, E], 23);
    const v = rand([S, N, E], 24);
    const [out, w] = m.call(q.t, k.t, v.t) as [Tensor, Tensor];
    const ref = mhaRef(m, q.v, k.v, v.v, [L, S, N, E]);
    expect(out.shape).toEqual([L, N, E]);
    expect(w.shape).toEqual([N, L, S]);
    expectAllClose(values(out), ref.out, 1e-5);
    expectAllClose(values(w), ref.avgW, 1e-5);
    const [, perHead] = m.call(q.t, k.t, v.t, { averageAttnWeights: false }) as [Tensor, Tensor];
    expect(perHead.shape).toEqual([N, 2, L, S]);
    expect(m.call(q.t, k.t, v.t, { needWeights: false })[1]).toBeNull();
  });

  it('key padding masks (true = ignore), bool attention masks (true = not allowed), per-head float masks, causal', () => {
    manualSeed(25);
    const m = new MultiheadAttention(4, 2);
    randomizeBiases(m, 26);
    const [L, N, E] = [3, 2, 4];
    const x = rand([L, N, E], 27);
    const pad = [[false, false, true], [false, true, true]];
    const blocked = (i: number, j: number) => i === 0 && j === 1;
    const [out] = m.call(x.t, x.t, x.t, { keyPaddingMask: tensor(pad), attnMask: tensor([[false, true, false], [false, false, false], [false, false, false]]) }) as [Tensor, Tensor];
    expectAllClose(values(out), mhaRef(m, x.v, x.v, x.v, [L, L, N, E], { allowed: (n, _h, i, j) => !pad[n][j] && !blocked(i, j) }).out, 1e-5);
    const fm = rand([N * 2, L, L], 28);
    const [outF] = m.call(x.t, x.t, x.t, { attnMask: fm.t, isCausal: true }) as [Tensor, Tensor];
    expectAllClose(values(outF), mhaRef(m, x.v, x.v, x.v, [L, L, N, E], { allowed: (_n, _h, i, j) => j <= i, bias: (n, h, i, j) => fm.v[((n * 2 + h) * L + i) * L + j] }).out, 1e-5);
    expect(() => m.call(x.t, x.t, x.t, { attnMask: rand([2, 2], 1).t })).toThrow(/attnMask must be \[3, 3\] or \[4, 3, 3\], got f32\[2,2\]/);
    expect(() => m.call(x.t, x.t, x.t, { keyPaddingMask: tensor([[true, false]]) })).toThrow(/keyPaddingMask must be \[2,3\]/);
    expect(() => new MultiheadAttention(6, 4)).toThrow(/numHeads 4 must divide embedDim 6/);
    expect(() => m.call(rand([3, 2, 5], 1).t, x.t, x.t)).toThrow(KilnError);
  });

  it('batchFirst and unbatched inputs give the same results as the [L, N, E] layout', () => {
    manualSeed(29);
    const a = new MultiheadAttention(4, 2);
    const b = new MultiheadAttention(4, 2, { batchFirst: true });
    randomizeBiases(a, 30);
    b.loadStateDict(a.stateDict());
    const q = rand([3, 2, 4], 31).t;
    const kv = rand([5, 2, 4], 32).t;
    const [oa, wa] = a.call(q, kv, kv) as [Tensor, Tensor];
    const [ob, wb] = b.call(transpose(q, [1, 0, 2]), transpose(kv, [1, 0, 2]), transpose(kv, [1, 0, 2])) as [Tensor, Tensor];
    expectAllClose(values(transpose(ob, [1, 0, 2])), values(oa), 1e-6);
    expectAllClose(values(wb), values(wa), 1e-6);
    const q1 = q.slice([0, 0], [3, 1]).reshape([3, 4]);
    const kv1 = kv.slice([0, 0], [5, 1]).reshape([5, 4]);
    const [ou, wu] = a.call(q1, kv1, kv1) as [Tensor, Tensor];
    expect([ou.shape, wu.shape]).toEqual([[3, 4], [3, 5]]);
    expectAllClose(values(ou), values(oa.slice([0, 0], [3, 1])), 1e-6);
  });

  it('attention dropout in training only', () => {
    manualSeed(33);
    const m = new MultiheadAttention(4, 2, { dropout: 0.5 });
    const x = rand([3, 2, 4], 34).t;
    const run = (s: number) => values(withRng(randomKey(s), () => (m.call(x, x, x) as [Tensor, Tensor])[0]));
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
    m.eval();
    const e = values((m.call(x, x, x) as [Tensor, Tensor])[0]);
    expect(values((m.call(x, x, x) as [Tensor, Tensor])[0])).toEqual(e);
  });

  it('under jit (with masks) equals eager; gradients pass checkGrad', () => {
    manualSeed(35);
    const m = new MultiheadAttention(4, 2);
    randomizeBiases(m, 36);
    const x = rand([3, 2, 4], 37).t;
    const pad = tensor([[false, false, true], [false, false, false]]);
    const f = jit((t: Tensor, p: Tensor) => m.call(t, t, t, { keyPaddingMask: p, isCausal: true }) as [Tensor, Tensor]);
    const [jo, jw] = f(x, pad);
    const [eo, ew] = m.call(x, x, x, { keyPaddingMask: pad, isCausal: true }) as [Tensor, Tensor];
    expectAllClose(values(jo), values(eo), 1e-6);
    expectAllClose(values(jw), values(ew), 1e-6);
    expectModuleGrad(m, [x, x, x], ([o, w]: [Tensor, Tensor]) => concat([flat(o), flat(w)]), { tol: 1e-5 });
    // Cross-attention: query, key and value differ (and L != S).
    const g = new MultiheadAttention(4, 1);
    randomizeBiases(g, 38);
    expectModuleGrad(g, [rand([2, 1, 4], 39).t, rand([3, 1, 4], 40).t, rand([3, 1, 4], 41).t], ([o]: [Tensor, Tensor]) => o, { tol: 1e-5 });
  });

  it('scaledDotProductAttention gradients pass checkGrad (with a causal mask)', () => {
    const r = checkGrad((q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true }), [rand([2, 3, 2], 42).t, rand([2, 4, 2], 43).t, rand([2, 4, 3], 44).t]);
    expect(r.errors.tape!).toBeLessThan(1e-6);
    expect(r.errors.ir!).toBeLessThan(1e-6);
  });
});

describe('TransformerEncoderLayer', () => {
  const sa = (l: TransformerEncoderLayer, x: Tensor) => (l.selfAttn.call(x, x, x) as [Tensor, Tensor])[0];
  const ff = (l: TransformerEncoderLayer, x: Tensor, act: (t: Tensor) => Tensor) => l.linear2.call(act(l.linear1.call(x) as Tensor)) as Tensor;

  it('post-norm (default) is norm2(x + ff(norm1(x + sa(x)))) with ReLU; eval mode drops nothing', () => {
    manualSeed(50);
    const l = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8 });
    expect(Object.keys(l.stateDict())).toEqual([
      'selfAttn.inProjWeight', 'selfAttn.inProjBias', 'selfAttn.outProj.weight', 'selfAttn.outProj.bias',
      'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
    ]);
    l.eval();
    const x = rand([3, 2, 4], 51).t;
    const h = l.norm1.call(x.add(sa(l, x))) as Tensor;
    const expected = l.norm2.call(h.add(ff(l, h, (t) => t.relu()))) as Tensor;
    expectAllClose(values(l.call(x)), values(expected), 1e-5);
    // Training mode applies the three dropouts (p = 0.1 by default).
    l.train();
    expect(values(withRng(randomKey(1), () => l.call(x)))).not.toEqual(values(expected));
  });

  it('normFirst is x + sa(norm1(x)), then + ff(norm2(.)); GELU; batchFirst; masks reach the attention', () => {
    manualSeed(52);
    const l = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, activation: 'gelu', batchFirst: true });
    const x = rand([2, 3, 4], 53).t;
    const h = x.add(sa(l, l.norm1.call(x) as Tensor));
    const expected = h.add(ff(l, l.norm2.call(h) as Tensor, (t) => t.gelu()));
    expectAllClose(values(l.call(x)), values(expected), 1e-5);
    const pad = tensor([[false, true, false], [false, false, false]]);
    const masked = values(l.call(x, { srcKeyPaddingMask: pad, isCausal: true }));
    expect(masked).not.toEqual(values(expected));
    const n1 = l.norm1.call(x) as Tensor;
    const h2 = x.add((l.selfAttn.call(n1, n1, n1, { keyPaddingMask: pad, isCausal: true }) as [Tensor, Tensor])[0]);
    expectAllClose(masked, values(h2.add(ff(l, l.norm2.call(h2) as Tensor, (t) => t.gelu()))), 1e-5);
    expect(() => new TransformerEncoderLayer(4, 2, { activation: 'swish' as 'relu' })).toThrow(/activation must be 'relu', 'gelu' or a function/);
  });

  it('gradients pass checkGrad (dropout 0)', () => {
    manualSeed(54);
    const l = new TransformerEncoderLayer(4, 2, { dimFeedforward: 3, dropout: 0 });
    expectModuleGrad(l, [rand([2, 1, 4], 55).t], (y: Tensor) => y, { tol: 1e-5 });
  });
});
