// Optimizers against PyTorch's update rules written out in JS for three steps on a quadratic, eager
// step() vs functional update() (eagerly and jitted), state dicts, clipGradNorm and errors.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/error.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { grad } from '../../src/frontend/autograd/functional.js';
import { parameter } from '../../src/frontend/nn/module.js';
import { SGD, Adam, AdamW, RMSprop, Adagrad, Optimizer, clipGradNorm } from '../../src/frontend/optim/optimizer.js';
import type { OptimizerState } from '../../src/frontend/optim/optimizer.js';
import { expectAllClose, randValues, values } from './helpers.js';

// loss(p) = sum(a p^2 / 2 + b p), so grad = a p + b changes every step.
const N = 6;
const P0 = randValues(N, 1, -2, 2);
const A = randValues(N, 2, 0.5, 2);
const B = randValues(N, 3, -1, 1);
const aT = tensor(A);
const bT = tensor(B);
const loss = (p: Tensor) => p.mul(p).mul(aT).mul(0.5).add(p.mul(bT)).sum();

type RefStep = (p: number, g: number, s: Record<string, number>, t: number) => number;

/** Runs a per-element reference rule for `steps` steps; returns the parameters after each step. */
function reference(step: RefStep, steps = 3): number[][] {
  const p = [...P0];
  const slots = p.map(() => ({}) as Record<string, number>);
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < N; i++) p[i] = step(p[i], A[i] * p[i] + B[i], slots[i], t);
    out.push([...p]);
  }
  return out;
}

function eager(make: (ps: Tensor[]) => Optimizer<any>, steps = 3): number[][] {
  const p = parameter(tensor(P0));
  const opt = make([p]);
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    opt.zeroGrad();
    loss(p).backward();
    opt.step();
    out.push(values(p));
  }
  return out;
}

/** The same optimizer through update() on a {w} pytree, eagerly or as one jitted step. */
function functional(make: (ps: Tensor[]) => Optimizer<any>, compiled: boolean, steps = 3): number[][] {
  const opt = make([]);
  let params = { w: tensor(P0) };
  let state: OptimizerState = opt.init(params);
  const step = (ps: { w: Tensor }, st: OptimizerState) => opt.update(ps, grad((q: { w: Tensor }) => loss(q.w))(ps), st);
  const jitted = compiled ? jit(step) : null;
  const run = jitted ?? step;
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    ({ params, state } = run(params, state));
    out.push(values(params.w));
  }
  if (jitted) expect(jitted.stats().traces).toBe(1);
  return out;
}

const sgdRef = ({ lr, momentum = 0, dampening = 0, nesterov = false, wd = 0, maximize = false }: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; wd?: number; maximize?: boolean }): RefStep =>
  (p, g, s, t) => {
    g = maximize ? -g : g;
    g += wd * p;
    if (momentum) {
      s.buf = t === 1 ? g : momentum * s.buf + (1 - dampening) * g;
      g = nesterov ? g + momentum * s.buf : s.buf;
    }
    return p - lr * g;
  };

const adamRef = ({ lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0, decoupled = false, amsgrad = false }: { lr: number; b1?: number; b2?: number; eps?: number; wd?: number; decoupled?: boolean; amsgrad?: boolean }): RefStep =>
  (p, g, s, t) => {
    if (decoupled) p *= 1 - lr * wd;
    else g += wd * p;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    s.vMax = Math.max(s.vMax ?? 0, s.v);
    const denom = Math.sqrt(amsgrad ? s.vMax : s.v) / Math.sqrt(1 - b2 ** t) + eps;
    return p - (lr / (1 - b1 ** t)) * (s.m / denom);
  };

const rmspropRef = ({ lr, alpha = 0.99, eps = 1e-8, wd = 0, momentum = 0, centered = false }: { lr: number; alpha?: number; eps?: number; wd?: number; momentum?: number; centered?: boolean }): RefStep =>
  (p, g, s) => {
    g += wd * p;
    s.sq = alpha * (s.sq ?? 0) + (1 - alpha) * g * g;
    s.avg = alpha * (s.avg ?? 0) + (1 - alpha) * g;
    const denom = Math.sqrt(centered ? s.sq - s.avg * s.avg : s.sq) + eps;
    if (momentum) {
      s.buf = momentum * (s.buf ?? 0) + g / denom;
      return p - lr * s.buf;
    }
    return p - (lr * g) / denom;
  };

const adagradRef = ({ lr, lrDecay = 0, wd = 0, eps = 1e-10, init = 0 }: { lr: number; lrDecay?: number; wd?: number; eps?: number; init?: number }): RefStep =>
  (p, g, s, t) => {
    g += wd * p;
    s.sum = (s.sum ?? init) + g * g;
    return p - (lr / (1 + (t - 1) * lrDecay)) * (g / (Math.sqrt(s.sum) + eps));
  };

const CASES: [string, (ps: Tensor[]) => Optimizer<any>, RefStep][] = [
  ['SGD', (ps) => new SGD(ps, { lr: 0.1 }), sgdRef({ lr: 0.1 })],
  ['SGD momentum + dampening', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.3 }), sgdRef({ lr: 0.1, momentum: 0.9, dampening: 0.3 })],
  ['SGD Nesterov + weight decay', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.1 }), sgdRef({ lr: 0.05, momentum: 0.8, nesterov: true, wd: 0.1 })],
  ['SGD maximize', (ps) => new SGD(ps, { lr: 0.1, maximize: true, weightDecay: 0.2 }), sgdRef({ lr: 0.1, maximize: true, wd: 0.2 })],
  ['Adam', (ps) => new Adam(ps, { lr: 0.1 }), adamRef({ lr: 0.1 })],
  ['Adam (betas, L2 weight decay, amsgrad)', (ps) => new Adam(ps, { lr: 0.05, betas: [0.8, 0.9], weightDecay: 0.1, amsgrad: true }), adamRef({ lr: 0.05, b1: 0.8, b2: 0.9, wd: 0.1, amsgrad: true })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0.1 }), adamRef({ lr: 0.1, wd: 0.1, decoupled: true })],
  ['RMSprop', (ps) => new RMSprop(ps, { lr: 0.01 }), rmspropRef({ lr: 0.01 })],
  ['RMSprop centered + momentum + weight decay', (ps) => new RMSprop(ps, { lr: 0.01, alpha: 0.9, centered: true, momentum: 0.5, weightDecay: 0.1 }), rmspropRef({ lr: 0.01, alpha: 0.9, centered: true, momentum: 0.5, wd: 0.1 })],
  ['Adagrad', (ps) => new Adagrad(ps, { lr: 0.5 }), adagradRef({ lr: 0.5 })],
  ['Adagrad (lrDecay, weight decay, initial accumulator)', (ps) => new Adagrad(ps, { lr: 0.5, lrDecay: 0.1, weightDecay: 0.05, initialAccumulatorValue: 0.2 }), adagradRef({ lr: 0.5, lrDecay: 0.1, wd: 0.05, init: 0.2 })],
];

describe('optimizers vs hand-written updates (3 steps)', () => {
  for (const [name, make, ref] of CASES) {
    it(`${name}: eager step(), functional update() and jitted update() all match the formula`, () => {
      const expected = reference(ref);
      const e = eager(make);
      const f = functional(make, false);
      const j = functional(make, true);
      for (let t = 0; t < 3; t++) {
        expectAllClose(e[t], expected[t], 1e-5);
        expectAllClose(f[t], expected[t], 1e-5);
        expectAllClose(j[t], expected[t], 1e-5);
        // The eager and functional paths share the rule: they agree to float32 rounding.
        expectAllClose(f[t], e[t], 1e-6);
      }
    });
  }

  it('Adam bias corrections keep float32 accuracy (no cancellation in 1 - beta2^t): a constant gradient moves lr per step', () => {
    const g = [1e-3, 0.5, -2, 3e-2];
    const p = parameter(tensor([1, 1, 1, 1]));
    const opt = new Adam([p], { lr: 1 });
    let params = { w: tensor([1, 1, 1, 1]) };
    let state = opt.init(params);
    const update = jit((ps: { w: Tensor }, st: OptimizerState) => opt.update(ps, { w: tensor(g) }, st));
    for (let t = 1; t <= 3; t++) {
      p.grad = tensor(g);
      opt.step();
      ({ params, state } = update(params, state));
      const expected = g.map((gi) => 1 - (t * Math.sign(gi)) / (1 + 1e-8 / Math.abs(gi)));
      for (const got of [values(p), values(params.w)]) got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(5e-7));
    }
  });

  it('a schedule can feed the jitted update a tensor lr without retracing', () => {
    const opt = new SGD([], { lr: 1 });
    const step = jit((ps: { w: Tensor }, st: OptimizerState, lr: Tensor) => opt.update(ps, { w: ps.w.mul(aT).add(bT) }, st, { lr }));
    let params = { w: tensor(P0) };
    let state = opt.init(params);
    const expected = [...P0];
    for (const lr of [0.1, 0.05, 0.01]) {
      ({ params, state } = step(params, state, tensor(lr)));
      for (let i = 0; i < N; i++) expected[i] -= lr * (A[i] * expected[i] + B[i]);
    }
    expectAllClose(values(params.w), expected, 1e-5);
    expect(values(state.step)).toEqual([3]);
    expect(step.stats().traces).toBe(1);
  });
});

describe('Optimizer mechanics', () => {
  it('skips parameters without gradients and updates in place (the module keeps its tensor)', () => {
    const p = parameter(tensor([1, 2]));
    const q = parameter(tensor([3, 4]));
    const opt = new SGD([p, q], { lr: 0.5 });
    p.mul(p).sum().backward();
    opt.step();
    expect(values(p)).toEqual([0, 0]);
    expect(values(q)).toEqual([3, 4]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  it('stateDict / loadStateDict resume exactly; mismatches are errors', () => {
    const make = (ps: Tensor[]) => new Adam(ps, { lr: 0.1 });
    const straight = eager(make, 4)[3];
    const p = parameter(tensor(P0));
    const opt = make([p]);
    for (let t = 0; t < 2; t++) {
      opt.zeroGrad();
      loss(p).backward();
      opt.step();
    }
    const saved = opt.stateDict();
    expect(saved.step).toBe(2);
    expect(Object.keys(saved.slots[0]).sort()).toEqual(['m', 'v']);
    const p2 = parameter(tensor(values(p)));
    const opt2 = make([p2]);
    opt2.loadStateDict(saved);
    for (let t = 0; t < 2; t++) {
      opt2.zeroGrad();
      loss(p2).backward();
      opt2.step();
    }
    expectAllClose(values(p2), straight, 1e-6);
    expect(() => new SGD([p2]).loadStateDict(saved)).toThrow(/SGD.loadStateDict: the state is from Adam/);
    expect(() => opt2.loadStateDict({ ...saved, slots: { 1: saved.slots[0] } })).toThrow(/slots for parameter 1, but the optimizer has 1 parameters/);
    expect(() => opt2.loadStateDict({ ...saved, slots: { 0: { m: saved.slots[0].m } } })).toThrow(/parameter 0 has slots \[m\], expected \[m, v\]/);
    expect(() => opt2.loadStateDict({ ...saved, slots: { 0: { m: tensor([1]), v: tensor([1]) } } })).toThrow(/slot m of parameter 0 is f32\[1\], the parameter is f32\[6\]/);
    expect(() => opt2.loadStateDict({ ...saved, step: -1 })).toThrow(/step -1 must be a non-negative integer/);
  });

  it('functional update checks its arguments', () => {
    const opt = new Adam([]);
    const params = { w: tensor([1, 2]) };
    const state = opt.init(params);
    expect(() => opt.update(params, {}, state)).toThrow(/Adam.update: 1 parameters but 0 gradients/);
    expect(() => opt.update({ w: params.w, v: params.w }, { w: params.w, v: params.w }, state)).toThrow(/state holds 1 parameters, got 2/);
  });

  it('constructor errors', () => {
    expect(() => new SGD([], { lr: -1 })).toThrow(/SGD: learning rate must be non-negative, got -1/);
    expect(() => new SGD([], { nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0 and dampening 0/);
    expect(() => new SGD([tensor([1]), 3 as unknown as Tensor])).toThrow(/SGD: parameter 1 is not a tensor/);
  });
});

describe('clipGradNorm', () => {
  it('scales all gradients by maxNorm / norm when the global norm is larger; returns the norm before', () => {
    const p = parameter(tensor([1, 2]));
    const q = parameter(tensor([[3]]));
    const r = parameter(tensor([5]));
    p.grad = tensor([3, 4]);
    q.grad = tensor([[12]]);
    const norm = clipGradNorm([p, q, r], 6.5);
    expect(norm).toBeCloseTo(13, 5);
    const scale = 6.5 / (13 + 1e-6);
    expectAllClose(values(p.grad!), [3 * scale, 4 * scale], 1e-6);
    expectAllClose(values(q.grad!), [12 * scale], 1e-6);
    expect(r.grad).toBeNull();
    // Below the threshold nothing changes.
    const g = p.grad!;
    expect(clipGradNorm([p, q], 100)).toBeCloseTo(6.5, 4);
    expect(p.grad).toBe(g);
  });
});
