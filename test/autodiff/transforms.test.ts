// The user-facing transforms: backward() semantics, grad/valueAndGrad/vjp/jvp/jacobian/hessian eagerly
// and under jit (where they go through the IR pass), higher order, pytrees.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { add, exp, mul, sub, tanh, sin } from '../../src/frontend/ops/elementwise.js';
import { sum, mean } from '../../src/frontend/ops/reduce.js';
import { matmul } from '../../src/frontend/ops/linalg.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { makeIR } from '../../src/frontend/tracing.js';
import { noGrad } from '../../src/frontend/autograd/tape.js';
import { zeroGrad } from '../../src/frontend/autograd/backward.js';
import { grad, hessian, jacobian, jvp, valueAndGrad, vjp } from '../../src/frontend/autograd/functional.js';
import { checkGrad } from '../../src/frontend/autograd/check.js';
import { expectClose, rand, values } from './helpers.js';

describe('backward()', () => {
  it('accumulates into .grad of leaves; zeroGrad clears', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    sum(mul(x, x)).backward();
    expect(x.grad!.tolist()).toEqual([2, 4, 6]);
    sum(mul(x, 3)).backward();
    expect(x.grad!.tolist()).toEqual([5, 7, 9]);
    zeroGrad(x);
    expect(x.grad).toBeNull();
  });
  it('needs gradOutput for non-scalar outputs and uses it', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = mul(x, x);
    expect(() => y.backward()).toThrow(/one-element outputs.*f32\[2\].*gradOutput/);
    y.backward({ gradOutput: [1, 10] });
    expect(x.grad!.tolist()).toEqual([2, 40]);
  });
  it('a second backward needs retainGraph', () => {
    const x = tensor(2, { requiresGrad: true });
    const y = mul(x, x);
    y.backward({ retainGraph: true });
    y.backward();
    expect(x.grad!.item()).toBe(8);
    expect(() => y.backward()).toThrow(/second time.*retainGraph/);
  });
  it('requiresGrad_, detach, noGrad, retainGrad', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const h = mul(x, 3);
    h.retainGrad();
    const d = h.detach();
    expect(d.requiresGrad).toBe(false);
    expect(noGrad(() => mul(x, x)).requiresGrad).toBe(false);
    sum(add(mul(h, x), mul(d, x))).backward();
    // h*x = 3x^2 gives 6x; d*x with d = 3x detached gives only d = 3x
    expect(x.grad!.tolist()).toEqual([9, 18]);
    expect(h.grad!.tolist()).toEqual([1, 2]);
    expect(() => tensor([1], { dtype: 'int32' }).requiresGrad_()).toThrow(/only float tensors/);
    expect(() => tensor(1).backward()).toThrow(/does not require grad/);
  });
  it('createGraph gives differentiable gradients (second derivative by backward twice)', () => {
    const x = tensor(1.5, { requiresGrad: true });
    const y = mul(mul(x, x), x);
    y.backward({ createGraph: true });
    const g = x.grad!;
    expect(g.item()).toBeCloseTo(6.75, 6);
    x.grad = null;
    g.backward();
    expect(x.grad!.item()).toBeCloseTo(9, 6);
  });
});

const cube = (x: Tensor) => mul(mul(x, x), x);

describe('grad and friends', () => {
  it('grad(grad(x => x*x*x))(2) == 12, eagerly and under jit', () => {
    expect((grad(grad(cube))(2) as Tensor).item()).toBe(12);
    expect((jit((x: Tensor) => grad(grad(cube))(x))(tensor(2)) as Tensor).item()).toBe(12);
    expect((grad(grad(grad(cube)))(tensor(5)) as Tensor).item()).toBe(6);
  });
  it('grad of a function that calls grad', () => {
    // f(x) = x * g'(x) with g = sin, so f'(x) = sin'(x) + x sin''(x) = cos x - x sin x
    const f = (x: Tensor) => mul(x, grad(sin)(x) as Tensor);
    const x = tensor(0.7, { dtype: 'float64' });
    const want = Math.cos(0.7) - 0.7 * Math.sin(0.7);
    expect((grad(f)(x) as Tensor).item()).toBeCloseTo(want, 12);
    expect((jit((t: Tensor) => grad(f)(t))(x) as Tensor).item()).toBeCloseTo(want, 12);
  });
  it('the Hessian of a quadratic form is its (symmetrized) matrix', () => {
    const A = tensor([[2, 1, 0], [1, 3, -1], [0, -1, 4]], { dtype: 'float64' });
    const q = (v: Tensor) => mul(0.5, sum(mul(v, matmul(A, v))));
    const v = tensor([0.3, -1, 2], { dtype: 'float64' });
    expect((hessian(q)(v) as Tensor).tolist()).toEqual(A.tolist());
    expect((jit((t: Tensor) => hessian(q)(t))(v) as Tensor).tolist()).toEqual(A.tolist());
  });
  it('second derivatives of a non-polynomial function match finite differences of the gradient', () => {
    const f = (x: Tensor) => sum(mul(sin(x), mul(x, x)));
    const r = checkGrad((x) => grad(f)(x) as Tensor, [rand([4], 31)]);
    expect(r.errors.tape).toBeLessThan(1e-6);
    expect(r.errors.ir).toBeLessThan(1e-6);
    const x = rand([3], 32);
    const H = hessian(f)(x) as Tensor;
    const d = values(x).map((v) => (2 - v * v) * Math.sin(v) + 4 * v * Math.cos(v));
    expectClose(H, [d[0], 0, 0, 0, d[1], 0, 0, 0, d[2]], 1e-12);
  });
  it('argnums, pytrees of parameters and hasAux', () => {
    const loss = (p: { w: Tensor; b: Tensor }, x: Tensor) => {
      const y = add(mul(p.w, x), p.b);
      return [sum(mul(y, y)), { y }] as [Tensor, { y: Tensor }];
    };
    const params = { w: tensor([1, 2]), b: tensor([0.5, -1]) };
    const x = tensor([3, 4]);
    const [[value, aux], g] = valueAndGrad(loss, { hasAux: true })(params, x);
    // y = [3.5, 7]; dL/dw = 2 y x, dL/db = 2 y
    expect((value as Tensor).item()).toBeCloseTo(3.5 ** 2 + 49, 5);
    expect((aux as { y: Tensor }).y.tolist()).toEqual([3.5, 7]);
    expect(g.w.tolist()).toEqual([21, 56]);
    expect(g.b.tolist()).toEqual([7, 14]);
    const [gp, gx] = grad(loss, { argnums: [0, 1], hasAux: true })(params, x)[0];
    expect(gp.b.tolist()).toEqual([7, 14]);
    expect(gx.tolist()).toEqual([7, 28]);
    // Results are off the tape and the user's tensors untouched.
    expect(g.w.requiresGrad).toBe(false);
    expect(params.w.requiresGrad).toBe(false);
    const jitted = jit((p: typeof params, t: Tensor) => valueAndGrad(loss, { hasAux: true })(p, t));
    const [[v2], g2] = jitted(params, x) as [[Tensor, unknown], { w: Tensor; b: Tensor }];
    expect(v2.item()).toBeCloseTo((value as Tensor).item() as number, 4);
    expect(g2.w.tolist()).toEqual([21, 56]);
  });
  it('errors: non-scalar output, integer argument', () => {
    expect(() => grad((x: Tensor) => mul(x, 2))(tensor([1, 2]))).toThrow(/one-element float tensor, got f32\[2\]/);
    expect(() => grad((x: Tensor) => sum(x))(tensor([1], { dtype: 'int32' }))).toThrow(/only float tensors can be differentiated/);
  });
  it('vjp and jacobian of a vector function', () => {
    const f = (x: Tensor) => mul(exp(x), x);
    const x = tensor([0.5, -1, 2], { dtype: 'float64' });
    const [out, pullback] = vjp(f, x);
    expectClose(out, [0.5, -1, 2].map((t) => Math.exp(t) * t));
    const [g] = pullback(tensor([1, 0, 2], { dtype: 'float64' }));
    expectClose(g, [1, 0, 2].map((c, i) => c * Math.exp([0.5, -1, 2][i]) * (1 + [0.5, -1, 2][i])));
    const J = jacobian(f)(x) as Tensor;
    expect(J.shape).toEqual([3, 3]);
    const d = [0.5, -1, 2].map((t) => Math.exp(t) * (1 + t));
    expectClose(J, [d[0], 0, 0, 0, d[1], 0, 0, 0, d[2]]);
    expectClose(jit((t: Tensor) => jacobian(f)(t))(x) as Tensor, J);
  });
  it('jvp matches the directional derivative, eagerly and under jit', () => {
    const f = (a: Tensor, b: Tensor) => tanh(mul(a, b));
    const a = rand([3], 1);
    const b = rand([3], 2);
    const ta = rand([3], 3);
    const tb = rand([3], 4);
    const [out, tout] = jvp(f, [a, b], [ta, tb]);
    const av = values(a), bv = values(b), tav = values(ta), tbv = values(tb);
    expectClose(out, av.map((x, i) => Math.tanh(x * bv[i])));
    expectClose(tout, av.map((x, i) => (1 - Math.tanh(x * bv[i]) ** 2) * (tav[i] * bv[i] + x * tbv[i])));
    const [, t2] = jit((x: Tensor, y: Tensor, u: Tensor, w: Tensor) => jvp(f, [x, y], [u, w]))(a, b, ta, tb) as [Tensor, Tensor];
    expectClose(t2, tout);
  });
});

describe('a small MLP', () => {
  const w1 = rand([4, 5], 11, -0.5, 0.5);
  const b1 = rand([5], 12, -0.1, 0.1);
  const w2 = rand([5, 2], 13, -0.5, 0.5);
  const x = rand([3, 4], 14);
  const target = rand([3, 2], 15);
  const loss = (p: { w1: Tensor; b1: Tensor; w2: Tensor }) => {
    // The data follows the parameters: checkGrad evaluates on 'cpu-ref', whatever the default device is.
    const h = tanh(add(matmul(x.to(p.w1.device), p.w1), p.b1));
    const d = sub(matmul(h, p.w2), target.to(p.w1.device));
    return mean(mul(d, d));
  };
  it('grad == eager backward == finite differences; jit(grad) agrees', () => {
    const params = { w1, b1, w2 };
    const g = grad(loss)(params) as typeof params;
    const mine = { w1: noGrad(() => mul(w1, 1)).requiresGrad_(), b1: noGrad(() => mul(b1, 1)).requiresGrad_(), w2: noGrad(() => mul(w2, 1)).requiresGrad_() };
    loss(mine).backward();
    for (const k of ['w1', 'b1', 'w2'] as const) expectClose(g[k], mine[k].grad!, 1e-12);
    const r = checkGrad((a, b, c) => loss({ w1: a, b1: b, w2: c }), [w1, b1, w2]);
    expect(r.maxRelError).toBeLessThan(1e-6);
    r.numeric.forEach((n, i) => expectClose(Array.from(n), g[(['w1', 'b1', 'w2'] as const)[i]], 1e-7));
    const gj = jit((p: typeof params) => grad(loss)(p))(params) as typeof params;
    for (const k of ['w1', 'b1', 'w2'] as const) expectClose(gj[k], g[k], 1e-12);
  });
  it('under jit forward and backward are one IR function', () => {
    const ir = makeIR((p: { w1: Tensor; b1: Tensor; w2: Tensor }) => valueAndGrad(loss)(p))({ w1, b1, w2 });
    const prims = ir.body.ops.map((o) => o.prim);
    expect(prims.filter((q) => q === 'dot_general').length).toBe(2 + 3); // forward 2, backward 3 (no dx)
    expect(ir.body.results.length).toBe(4);
  });
});
