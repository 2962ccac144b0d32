// RNN, LSTM and GRU against their gate formulas written out in JS (PyTorch's layouts), the layout
// options (batchFirst, unbatched, layers, bidirectional), jit (one scan op per layer) and gradients.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/error.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { manualSeed, randomKey } from '../../src/frontend/random.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { makeIR } from '../../src/frontend/tracing.js';
import { valueAndGrad } from '../../src/frontend/autograd/functional.js';
import { flip, transpose, concat } from '../../src/frontend/ops/shape.js';
import { functionalCall } from '../../src/frontend/nn/module.js';
import { withRng } from '../../src/frontend/nn/rng.js';
import { RNN, LSTM, GRU } from '../../src/frontend/nn/rnn.js';
import { expectAllClose, expectModuleGrad, flat, rand, sigmoidJs, values } from './helpers.js';

type Mat = number[];
type Cell = (x: number[], state: number[][], w: { ih: Mat; hh: Mat; bih: Mat; bhh: Mat }, hidden: number) => number[][];

/** Row r of W (row-major, `cols` wide) dotted with v, plus b[r]. */
const rowDot = (w: Mat, r: number, v: number[], b: Mat) => v.reduce((s, x, k) => s + w[r * v.length + k] * x, b[r] ?? 0);

const lstmCell: Cell = (x, [h, c], w, H) => {
  const pre = (gate: number, j: number) => rowDot(w.ih, gate * H + j, x, w.bih) + rowDot(w.hh, gate * H + j, h, w.bhh);
  const c2 = c.map((cj, j) => sigmoidJs(pre(1, j)) * cj + sigmoidJs(pre(0, j)) * Math.tanh(pre(2, j)));
  const h2 = c2.map((cj, j) => sigmoidJs(pre(3, j)) * Math.tanh(cj));
  return [h2, c2];
};
const gruCell: Cell = (x, [h], w, H) => {
  const xi = (gate: number, j: number) => rowDot(w.ih, gate * H + j, x, w.bih);
  const hi = (gate: number, j: number) => rowDot(w.hh, gate * H + j, h, w.bhh);
  return [h.map((hj, j) => {
    const r = sigmoidJs(xi(0, j) + hi(0, j));
    const z = sigmoidJs(xi(1, j) + hi(1, j));
    const n = Math.tanh(xi(2, j) + r * hi(2, j));
    return (1 - z) * n + z * hj;
  })];
};
const rnnCell = (act: (v: number) => number): Cell => (x, [h], w, H) => [Array.from({ length: H }, (_, j) => act(rowDot(w.ih, j, x, w.bih) + rowDot(w.hh, j, h, w.bhh)))];

/** Runs a cell over x [T, N, F] (values) for one layer and direction; returns outputs [T][N][H] and final states. */
function runRef(cell: Cell, xv: number[], [T, N, F]: number[], w: { ih: Mat; hh: Mat; bih: Mat; bhh: Mat }, H: number, init: number[][][], reverse = false) {
  let states = init; // [state][n][H]
  const out: number[][][] = new Array(T);
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const next = Array.from({ length: N }, (_, n) => cell(xv.slice((t * N + n) * F, (t * N + n + 1) * F), states.map((s) => s[n]), w, H));
    states = states.map((_, si) => next.map((ns) => ns[si]));
    out[t] = states[0];
  }
  return { out, states };
}

function weightsOf(m: RNN | LSTM | GRU, l = 0, suffix = '') {
  const sd = m.stateDict();
  const get = (k: string) => (sd[`${k}L${l}${suffix}`] ? values(sd[`${k}L${l}${suffix}`]) : []);
  return { ih: get('weightIh'), hh: get('weightHh'), bih: get('biasIh'), bhh: get('biasHh') };
}

const CASES: [string, () => RNN | LSTM | GRU, Cell, number][] = [
  ['LSTM', () => new LSTM(3, 2), lstmCell, 2],
  ['GRU', () => new GRU(3, 2), gruCell, 1],
  ['RNN tanh', () => new RNN(3, 2), rnnCell(Math.tanh), 1],
  ['RNN relu', () => new RNN(3, 2, { nonlinearity: 'relu' }), rnnCell((v) => Math.max(0, v)), 1],
];

describe('recurrent layers vs their formulas', () => {
  for (const [name, make, cell, nStates] of CASES) {
    it(`${name}: outputs and final states over 3 steps from given initial states`, () => {
      manualSeed(1);
      const m = make();
      const x = rand([3, 2, 3], 10, -2, 2);
      const init = Array.from({ length: nStates }, (_, s) => rand([1, 2, 2], 11 + s));
      const ref = runRef(cell, x.v, [3, 2, 3], weightsOf(m), 2, init.map((r) => [r.v.slice(0, 2), r.v.slice(2, 4)]));
      const res = m instanceof LSTM ? m.call(x.t, [init[0].t, init[1].t]) : m.call(x.t, init[0].t);
      const [out, fin] = res as [Tensor, Tensor | [Tensor, Tensor]];
      expect(out.shape).toEqual([3, 2, 2]);
      expectAllClose(values(out), ref.out.flat(2), 1e-5);
      const finals = Array.isArray(fin) ? fin : [fin];
      finals.forEach((f, s) => {
        expect(f.shape).toEqual([1, 2, 2]);
        expectAllClose(values(f), ref.states[s].flat(), 1e-5);
      });
    });
  }

  it('initial states default to zeros; parameter names and shapes follow PyTorch (camelCase)', () => {
    manualSeed(2);
    const m = new LSTM(3, 4);
    expect(Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({
      weightIhL0: [16, 3], weightHhL0: [16, 4], biasIhL0: [16], biasHhL0: [16],
    });
    // PyTorch's init: uniform in ±1/sqrt(hidden).
    for (const p of m.parameters()) for (const v of values(p)) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
    const x = rand([2, 1, 3], 12);
    const ref = runRef(lstmCell, x.v, [2, 1, 3], weightsOf(m), 4, [[[0, 0, 0, 0]], [[0, 0, 0, 0]]]);
    expectAllClose(values(m.call(x.t)[0]), ref.out.flat(2), 1e-5);
    const nb = new GRU(3, 4, { bias: false });
    expect(Object.keys(nb.stateDict())).toEqual(['weightIhL0', 'weightHhL0']);
    const xg = rand([2, 1, 3], 13);
    const refG = runRef(gruCell, xg.v, [2, 1, 3], weightsOf(nb), 4, [[[0, 0, 0, 0]]]);
    expectAllClose(values(nb.call(xg.t)[0]), refG.out.flat(2), 1e-5);
  });
});

describe('layouts', () => {
  it('batchFirst transposes input and output but not the states; unbatched input is a batch of one', () => {
    manualSeed(3);
    const a = new GRU(3, 2);
    const b = new GRU(3, 2, { batchFirst: true });
    b.loadStateDict(a.stateDict());
    const x = rand([4, 2, 3], 20).t;
    const [oa, ha] = a.call(x);
    const [ob, hb] = b.call(transpose(x, [1, 0, 2]));
    expect(ob.shape).toEqual([2, 4, 2]);
    expect(values(transpose(ob, [1, 0, 2]))).toEqual(values(oa));
    expect(values(hb)).toEqual(values(ha));
    const one = rand([4, 3], 21).t;
    const [ou, hu] = a.call(one);
    const [o1, h1] = a.call(one.reshape([4, 1, 3]));
    expect(ou.shape).toEqual([4, 2]);
    expect(hu.shape).toEqual([1, 2]);
    expect(values(ou)).toEqual(values(o1));
    expect(values(hu)).toEqual(values(h1));
  });

  it('stacked layers: layer 1 reads layer 0 outputs; states stack by layer', () => {
    manualSeed(4);
    const deep = new LSTM(3, 2, { numLayers: 2 });
    const l0 = new LSTM(3, 2);
    const l1 = new LSTM(2, 2);
    const sd = deep.stateDict();
    l0.loadStateDict(Object.fromEntries(Object.keys(l0.stateDict()).map((k) => [k, sd[k]])));
    l1.loadStateDict(Object.fromEntries(Object.keys(l1.stateDict()).map((k) => [k, sd[k.replace('L0', 'L1')]])));
    const x = rand([5, 2, 3], 22).t;
    const [o, [h, c]] = deep.call(x);
    const [y0, [h0, c0]] = l0.call(x);
    const [y1, [h1, c1]] = l1.call(y0);
    expectAllClose(values(o), values(y1), 1e-6);
    expect(h.shape).toEqual([2, 2, 2]);
    expectAllClose(values(h), [...values(h0), ...values(h1)], 1e-6);
    expectAllClose(values(c), [...values(c0), ...values(c1)], 1e-6);
  });

  it('bidirectional: the reverse direction is the same cell over the flipped sequence; outputs concatenate', () => {
    manualSeed(5);
    const bi = new GRU(3, 2, { bidirectional: true });
    expect(Object.keys(bi.stateDict())).toEqual([
      'weightIhL0', 'weightHhL0', 'biasIhL0', 'biasHhL0', 'weightIhL0Reverse', 'weightHhL0Reverse', 'biasIhL0Reverse', 'biasHhL0Reverse',
    ]);
    const sd = bi.stateDict();
    const fwd = new GRU(3, 2);
    const bwd = new GRU(3, 2);
    fwd.loadStateDict(Object.fromEntries(Object.keys(fwd.stateDict()).map((k) => [k, sd[k]])));
    bwd.loadStateDict(Object.fromEntries(Object.keys(bwd.stateDict()).map((k) => [k, sd[k + 'Reverse']])));
    const x = rand([4, 2, 3], 23).t;
    const h0 = rand([2, 2, 2], 24).t;
    const [o, h] = bi.call(x, h0);
    const [of, hf] = fwd.call(x, h0.slice([0], [1]));
    const [ob, hb] = bwd.call(flip(x, 0), h0.slice([1], [2]));
    expect(o.shape).toEqual([4, 2, 4]);
    expectAllClose(values(o), values(concat([of, flip(ob, 0)], 2)), 1e-6);
    expectAllClose(values(h), [...values(hf), ...values(hb)], 1e-6);
    // Two bidirectional layers: the second reads 2H features.
    const deep = new LSTM(3, 2, { numLayers: 2, bidirectional: true });
    expect(deep.stateDict().weightIhL1.shape).toEqual([8, 4]);
    const [od, [hd, cd]] = deep.call(x);
    expect([od.shape, hd.shape, cd.shape]).toEqual([[4, 2, 4], [4, 2, 2], [4, 2, 2]]);
  });

  it('dropout between layers in training only, keyed by the rng scope', () => {
    manualSeed(6);
    const m = new RNN(3, 4, { numLayers: 2, dropout: 0.5 });
    const x = rand([3, 2, 3], 25).t;
    const a = values(withRng(randomKey(1), () => m.call(x)[0]));
    expect(values(withRng(randomKey(1), () => m.call(x)[0]))).toEqual(a);
    expect(values(withRng(randomKey(2), () => m.call(x)[0]))).not.toEqual(a);
    m.eval();
    const e = values(m.call(x)[0]);
    expect(values(m.call(x)[0])).toEqual(e);
    expect(e).not.toEqual(a);
  });

  it('reports bad sizes and shapes', () => {
    expect(() => new LSTM(0, 2)).toThrow(/LSTM: inputSize must be a positive integer, got 0/);
    expect(() => new GRU(2, 2, { dropout: 1 })).toThrow(/GRU: dropout must be in \[0, 1\)/);
    expect(() => new RNN(2, 2, { nonlinearity: 'gelu' as 'tanh' })).toThrow(/nonlinearity must be 'tanh' or 'relu'/);
    const m = new LSTM(3, 2);
    expect(() => m.call(rand([4, 2, 5], 1).t)).toThrow(/LSTM: expects 3 input features, got f32\[4,2,5\]/);
    expect(() => m.call(rand([4], 1).t)).toThrow(KilnError);
    expect(() => m.call(rand([4, 2, 3], 1).t, [rand([1, 3, 2], 2).t, rand([1, 2, 2], 3).t])).toThrow(/LSTM: initial state 0 must be \[1,2,2\], got f32\[1,3,2\]/);
  });
});

describe('under jit and autodiff', () => {
  it('traces to one scan op per layer (both directions share it) and matches eager', () => {
    manualSeed(7);
    const x = rand([6, 2, 3], 30).t;
    const countScans = (m: LSTM | GRU) => makeIR((t: Tensor) => (m.call(t) as [Tensor, unknown])[0])(x).body.ops.filter((op) => op.prim === 'scan').length;
    expect(countScans(new LSTM(3, 4))).toBe(1);
    expect(countScans(new GRU(3, 4, { bidirectional: true }))).toBe(1);
    expect(countScans(new LSTM(3, 4, { numLayers: 3 }))).toBe(3);
    const m = new LSTM(3, 4, { numLayers: 2, bidirectional: true });
    const f = jit((t: Tensor) => {
      const [o, [h, c]] = m.call(t);
      return [o, h, c];
    });
    const [o, h, c] = f(x);
    const [eo, [eh, ec]] = m.call(x);
    expectAllClose(values(o), values(eo), 1e-6);
    expectAllClose(values(h), values(eh), 1e-6);
    expectAllClose(values(c), values(ec), 1e-6);
    f(rand([6, 2, 3], 31).t);
    expect(f.stats().traces).toBe(1);
  });

  it('jitted valueAndGrad through the scan equals eager backward', () => {
    manualSeed(8);
    const m = new GRU(3, 4, { numLayers: 2 });
    const x = rand([5, 2, 3], 32).t;
    const lossOf = (y: Tensor) => y.mul(y).sum();
    lossOf(m.call(x)[0]).backward();
    const eager = Object.fromEntries([...m.namedParameters()].map(([k, p]) => [k, values(p.grad!)]));
    const params = Object.fromEntries(m.namedParameters());
    const step = jit((p: Record<string, Tensor>, t: Tensor) => valueAndGrad((q: Record<string, Tensor>) => lossOf(functionalCall<[Tensor, Tensor]>(m, q, t).output[0]))(p));
    const [, grads] = step(params, x) as [Tensor, Record<string, Tensor>];
    for (const k of Object.keys(eager)) expectAllClose(values(grads[k]), eager[k], 1e-4);
  });

  const small = { in: 2, hidden: 2 };
  it('LSTM gradients pass checkGrad (input, initial states, every parameter; output and cell state)', () => {
    manualSeed(9);
    const m = new LSTM(small.in, small.hidden);
    const x = rand([3, 2, 2], 33).t;
    const h0 = rand([1, 2, 2], 34).t;
    const c0 = rand([1, 2, 2], 35).t;
    expectModuleGrad(m, [x, h0, c0], ([o, [, c]]: [Tensor, [Tensor, Tensor]]) => concat([flat(o), flat(c)]), { tol: 1e-5 });
  });

  it('GRU (bidirectional, batchFirst) and RNN gradients pass checkGrad', () => {
    manualSeed(10);
    expectModuleGrad(new GRU(2, 2, { bidirectional: true, batchFirst: true }), [rand([2, 3, 2], 36).t], ([o, h]: [Tensor, Tensor]) => concat([flat(o), flat(h)]), { tol: 1e-5 });
    expectModuleGrad(new RNN(2, 3, { numLayers: 2 }), [rand([3, 1, 2], 37).t], ([o]: [Tensor, Tensor]) => o, { tol: 1e-5 });
  });
});
