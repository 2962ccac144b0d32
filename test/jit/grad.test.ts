// jit and gradients together: grad through an AutoGraph cond matches finite differences, and a whole
// training step (forward, grad, SGD update of a parameter dictionary) runs under one jit.
import { describe, expect, it } from 'vitest';
import { jit, grad, valueAndGrad, checkGrad, matmul, crossEntropy, backward, cond, forLoop, scan, Tensor, tensor, add, sub, mul, neg, exp, relu, tanh, gt } from '../../src/index.js';
import { printFunction } from '../../src/ir/printer.js';
import { rand, expectClose, vals } from './helpers.js';

const k: any = { sum: (t: Tensor) => t.sum(), mul, sub, neg, exp, tanh };
const scope = { k };

function branchy(x: any) {
  if (k.sum(x) > 0) return k.mul(k.exp(x), 2);
  else return k.sub(k.tanh(x), k.mul(x, x));
}

describe('jit with gradients', () => {
  it('differentiates through the cond that autograph produced (finite differences, tape and IR)', () => {
    const jf = jit(branchy, { autograph: true, scope });
    expect(printFunction(jf.lower(tensor([0.3, 0.2])))).toMatch(/= cond /);
    for (const xs of [[0.3, 0.2, -0.1], [-0.4, 0.1, -0.2]]) {
      const r = checkGrad((x: Tensor) => jf(x), [tensor(xs)]);
      expect(r.errors.ir).toBeLessThan(1e-6);
      expect(r.errors.tape).toBeLessThan(1e-6);
    }
    // grad of the jitted function, and jit of its grad, agree with each other on both branches.
    const g = grad((x: Tensor) => jf(x).sum());
    const jg = jit(grad((x: Tensor) => jf(x).sum()));
    for (const xs of [[0.3, 0.2, -0.1], [-0.4, 0.1, -0.2]]) expectClose(jg(tensor(xs)), g(tensor(xs)), 1e-5);
    expect(jg.stats().traces).toBe(1);
  });

  it('differentiates an autograph method-only function under jit', () => {
    function f(x: any) {
      if (x.sum() > 0) return x.exp().mul(2);
      else return x.tanh().sub(x.mul(x));
    }
    const jf = jit(f, { autograph: true });
    for (const xs of [[0.3, 0.2], [-0.4, 0.1]]) expect(checkGrad((x: Tensor) => jf(x), [tensor(xs)]).ok).toBe(true);
  });

  it('backward() through a jitted call records the ops on the tape', () => {
    const f = jit((x: Tensor, w: Tensor) => relu(matmul(x, w)));
    const x = rand([3, 4], 1);
    const w = rand([4, 2], 2);
    f(x, w); // compiled once without gradients
    const wg = rand([4, 2], 2);
    wg.requiresGrad = true;
    backward(f(x, wg).sum());
    const expected = grad((ww: Tensor) => relu(matmul(x, ww)).sum())(w);
    expectClose(wg.grad!, expected);
    expect(f.stats().eagerCalls).toBe(1);
    expect(f.stats().traces).toBe(1);
  });

  it('runs a whole training step (forward, grad, SGD on a parameter dictionary) under one jit', () => {
    type P = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
    const model = (p: P, x: Tensor) => add(matmul(relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2);
    const lossFn = (p: P, x: Tensor, y: Tensor) => crossEntropy(model(p, x), y);
    const step = (p: P, x: Tensor, y: Tensor, lr: number) => {
      const [loss, g] = valueAndGrad(lossFn)(p, x, y) as [Tensor, P];
      const next = Object.fromEntries(Object.entries(p).map(([name, v]) => [name, sub(v, mul(g[name as keyof P], lr))])) as P;
      return { params: next, loss };
    };
    const jstep = jit(step);
    const x = rand([16, 6], 3);
    const y = tensor([0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 1, 1, 0, 2], { dtype: 'int32' });
    let pe: P = { w1: rand([6, 12], 4, 0.4), b1: rand([12], 5, 0.1), w2: rand([12, 3], 6, 0.4), b2: rand([3], 7, 0.1) };
    let pj = pe;
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const e = step(pe, x, y, 0.5);
      const j = jstep(pj, x, y, 0.5);
      expectClose(j.loss, e.loss, 1e-4);
      for (const name of Object.keys(pe) as (keyof P)[]) expectClose(j.params[name], e.params[name], 1e-4);
      pe = e.params;
      pj = j.params;
      losses.push(Number(j.loss.item()));
    }
    expect(losses[4]).toBeLessThan(losses[0]);
    expect(jstep.stats()).toMatchObject({ traces: 1, hits: 4 });
    // Forward and backward are one graph: the gradient ops appear in the optimized IR.
    const ir = jstep.lower(pj, x, y, 0.5);
    expect(ir.body.results.length).toBe(5);
  });

  it('differentiates structured loops: forLoop (lowered to scan) and scan', () => {
    const f = (x: Tensor) => forLoop(0, 3, (_i: number | Tensor, c: Tensor) => tanh(add(mul(c, x), 0.5)), x);
    const r = checkGrad(f, [tensor([0.2, -0.3])]);
    expect(r.ok).toBe(true);
    const s = (x: Tensor, xs: Tensor) => scan((c: Tensor, xi: Tensor) => [mul(c, xi), c] as [Tensor, Tensor], x, xs)[0];
    expect(checkGrad(s, [tensor([0.5, 1.5]), tensor([[1.1, 0.9], [0.8, 1.2], [1.3, 0.7]])]).ok).toBe(true);
    const c = (x: Tensor) => cond(gt(x.sum(), 0), (a: Tensor) => mul(a, a), (a: Tensor) => neg(a), x);
    expect(checkGrad(c, [tensor([0.5, 1.5])]).ok).toBe(true);
    expect(vals(jit(grad((x: Tensor) => c(x).sum()))(tensor([0.5, 1.5])))).toEqual([1, 3]);
  });
});
