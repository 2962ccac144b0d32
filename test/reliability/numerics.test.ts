// Numerics under extreme inputs (±1e4, tiny and exactly 0): logSumExp, softmax, logSoftmax,
// crossEntropy, sigmoid, softplus, logSigmoid, binary cross entropy on logits, log1p, expm1 and tanh
// give finite results equal to a float64 reference within the float32 tolerance of
// notes/TOLERANCES.md, on cpu-ref and wasm, eager and jitted; so do their gradients (eager backward()
// and jit(grad)), including at 0, where a max(z, 0) written as relu once gave softplus and
// binaryCrossEntropyWithLogits the wrong gradient.
import { describe, expect, it } from 'vitest';
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

/** notes/TOLERANCES.md, "single ops with closed-form references": |got - want| <= atol + rtol |want|. */
const TOL = { rtol: 2e-5, atol: 1e-6 };

function expectNear(got: ArrayLike<number>, want: readonly number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (!Number.isFinite(g) || Math.abs(g - w) > TOL.atol + TOL.rtol * Math.abs(w)) {
      expect.fail(`${what}: element ${i} is ${g}, want ${w} (inputs ±1e4; tolerance rtol ${TOL.rtol}, atol ${TOL.atol})`);
    }
  }
}

// ---- float64 references ----------------------------------------------------------------------------
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const logSigmoid = (x: number) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
const lse = (r: number[]) => {
  const m = Math.max(...r);
  return m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
};
const f32 = (xs: number[]) => Array.from(Float32Array.from(xs)); // the inputs as float32 sees them

const XS = f32([-1e4, -100, -20, -1, -1e-6, 0, 1e-7, 0.5, 20, 100, 1e4]);
const ROWS = [f32([1e4, -1e4, 0, 5]), f32([-1e4, -1e4 + 1, -1e4 - 2, -1e4]), f32([1e4, 1e4, 1e4 - 3, 0]), f32([0, 0, 0, 0])];
const TARGETS = [1, 2, 3, 0];

interface Case {
  name: string;
  input: 'vector' | 'rows';
  fn: (x: Tensor) => Tensor;
  want: () => number[];
  /** d(sum(fn(x)))/dx, float64. */
  grad?: () => number[];
}

const softmaxRows = () => ROWS.flatMap((r) => r.map((v) => Math.exp(v - lse(r))));

const CASES: Case[] = [
  { name: 'sigmoid', input: 'vector', fn: (x) => K.sigmoid(x), want: () => XS.map(sigmoid), grad: () => XS.map((x) => sigmoid(x) * (1 - sigmoid(x))) },
  { name: 'softplus', input: 'vector', fn: (x) => K.softplus(x), want: () => XS.map(softplus), grad: () => XS.map(sigmoid) },
  { name: 'logSigmoid', input: 'vector', fn: (x) => K.logSigmoid(x), want: () => XS.map(logSigmoid), grad: () => XS.map((x) => 1 - sigmoid(x)) },
  {
    name: 'binaryCrossEntropyWithLogits',
    input: 'vector',
    fn: (x) => K.binaryCrossEntropyWithLogits(x, K.tensor(XS.map((_, i) => i % 2), { device: x.device }), { reduction: 'none' }),
    want: () => XS.map((x, i) => (i % 2 ? softplus(-x) : softplus(x))),
    grad: () => XS.map((x, i) => sigmoid(x) - (i % 2)),
  },
  { name: 'log1p', input: 'vector', fn: (x) => K.log1p(K.abs(x)), want: () => XS.map((x) => Math.log1p(Math.abs(x))) },
  { name: 'expm1', input: 'vector', fn: (x) => K.expm1(K.neg(K.abs(x))), want: () => XS.map((x) => Math.expm1(-Math.abs(x))), grad: () => XS.map((x) => -Math.sign(x) * Math.exp(-Math.abs(x))) },
  { name: 'tanh', input: 'vector', fn: (x) => K.tanh(x), want: () => XS.map(Math.tanh), grad: () => XS.map((x) => 1 - Math.tanh(x) ** 2) },
  { name: 'logSumExp', input: 'rows', fn: (x) => K.logSumExp(x, { axis: 1 }), want: () => ROWS.map(lse), grad: softmaxRows },
  { name: 'softmax', input: 'rows', fn: (x) => K.softmax(x, { axis: 1 }), want: softmaxRows },
  { name: 'logSoftmax', input: 'rows', fn: (x) => K.logSoftmax(x, { axis: 1 }), want: () => ROWS.flatMap((r) => r.map((v) => v - lse(r))), grad: () => ROWS.flatMap((r) => r.map((v) => 1 - r.length * Math.exp(v - lse(r)))) },
  {
    name: 'crossEntropy',
    input: 'rows',
    fn: (x) => K.crossEntropy(x, K.tensor(TARGETS, { dtype: 'int32', device: x.device }), { reduction: 'none' }),
    want: () => ROWS.map((r, i) => lse(r) - r[TARGETS[i]]),
    grad: () => ROWS.flatMap((r, i) => r.map((v, j) => Math.exp(v - lse(r)) - (j === TARGETS[i] ? 1 : 0))),
  },
];

const inputOf = (c: Case, device: string) => (c.input === 'vector' ? K.tensor(XS, { device }) : K.tensor(ROWS, { device }));

describe('extreme inputs give finite, correct results', () => {
  for (const device of ['cpu-ref', 'wasm']) {
    it(`forward on ${device}, eager and jitted`, () => {
      for (const c of CASES) {
        expectNear(c.fn(inputOf(c, device)).dataSync(), c.want(), `${c.name} eager on ${device}`);
        expectNear(K.jit(c.fn)(inputOf(c, device)).dataSync(), c.want(), `${c.name} jit on ${device}`);
      }
    });

    it(`gradients on ${device}: eager backward() and jit(grad)`, () => {
      for (const c of CASES) {
        if (!c.grad) continue;
        const want = c.grad();
        const x = inputOf(c, device);
        x.requiresGrad = true;
        K.sum(c.fn(x)).backward();
        expectNear(x.grad!.dataSync(), want, `${c.name} backward() on ${device}`);
        const g = K.jit(K.grad((t: Tensor) => K.sum(c.fn(t))))(inputOf(c, device)) as Tensor;
        expectNear(g.dataSync(), want, `${c.name} jit(grad) on ${device}`);
      }
    });
  }
});
