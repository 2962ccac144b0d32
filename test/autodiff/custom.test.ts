// Custom gradients: customVjp (a straight-through estimator, a stable logSumExp with its own backward)
// and the CustomFunction class form, used alike by backward(), grad, and grad under jit.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { exp, log, mul, round, sub, add, sin, cos } from '../../src/frontend/ops/elementwise.js';
import { max, sum } from '../../src/frontend/ops/reduce.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { grad } from '../../src/frontend/autograd/functional.js';
import { CustomFunction, FunctionContext, customVjp, stopGradient } from '../../src/frontend/autograd/custom.js';
import { checkGrad } from '../../src/frontend/autograd/check.js';
import { vjpFunction } from '../../src/passes/autodiff/ir_autodiff.js';
import { traceToFunction } from '../../src/frontend/tracing.js';
import { interpret } from '../../src/ir/interpret.js';
import { hostArray } from '../../src/ir/array.js';
import { expectClose, rand, values } from './helpers.js';

// round() has no gradient; the estimator passes the cotangent straight through.
const ste = customVjp(
  (x: Tensor) => round(x),
  (x: Tensor) => [round(x), null],
  (_res: null, g: Tensor) => [g],
);

// log(sum(exp(x))) computed around the max, with the softmax as its hand-written backward.
let lseBackwardCalls = 0;
const lse = customVjp(
  (x: Tensor) => add(max(x), log(sum(exp(sub(x, max(x)))))),
  (x: Tensor) => {
    const out = add(max(x), log(sum(exp(sub(x, max(x))))));
    return [out, [x, out]];
  },
  ([x, out]: [Tensor, Tensor], g: Tensor) => {
    lseBackwardCalls++;
    return [mul(g, exp(sub(x, out)))];
  },
);

describe('customVjp', () => {
  const c = tensor([1, -2, 3]);
  const f = (x: Tensor) => sum(mul(ste(x), c));
  it('straight-through estimator: backward, grad, jit(grad) all use bwd', () => {
    const x = tensor([0.4, 1.6, -0.7], { requiresGrad: true });
    f(x).backward();
    expect(x.grad!.tolist()).toEqual([1, -2, 3]);
    expect((grad(f)(tensor([0.4, 1.6, -0.7])) as Tensor).tolist()).toEqual([1, -2, 3]);
    expect((jit((t: Tensor) => grad(f)(t))(tensor([0.4, 1.6, -0.7])) as Tensor).tolist()).toEqual([1, -2, 3]);
    expect(values(ste(tensor([0.4, 1.6])))).toEqual([0, 2]);
  });
  it('stable logSumExp: gradient is the softmax, finite at large inputs, in all modes', () => {
    const big = tensor([1000, 1001, 999], { dtype: 'float64' });
    const e = [Math.exp(-1), 1, Math.exp(-2)];
    const soft = e.map((v) => v / (e[0] + e[1] + e[2]));
    lseBackwardCalls = 0;
    expectClose(grad(lse)(big) as Tensor, soft, 1e-12);
    const x = tensor([1000, 1001, 999], { dtype: 'float64', requiresGrad: true });
    lse(x).backward();
    expectClose(x.grad!, soft, 1e-12);
    expectClose(jit((t: Tensor) => grad(lse)(t))(big) as Tensor, soft, 1e-12);
    expect(lseBackwardCalls).toBe(3);
    expect(checkGrad((t) => lse(t), [rand([4], 3, -2, 2)]).maxRelError).toBeLessThan(1e-6);
  });
  it('the IR pass inlines the traced bwd in place of the forward ops', () => {
    const tf = traceToFunction((t: Tensor) => sum(mul(ste(t), t)), [tensor([0.4, 1.6], { dtype: 'float64' })]);
    const v = vjpFunction(tf.fn, [0]);
    const [, g] = interpret(v, [hostArray('float64', [2], [0.4, 1.6]), ...tf.captured.map((t) => t._host('test')), hostArray('float64', [], [1])]);
    // d/dx (ste(x) * x) = 1 * x + round(x)
    expect(Array.from(g.data)).toEqual([0.4 + 0, 1.6 + 2]);
  });
  it('second derivatives through a custom rule (the bwd is differentiated)', () => {
    const f2 = (t: Tensor) => lse(mul(t, tensor([1, 2], { dtype: 'float64' })));
    const h = (t: Tensor) => sum(mul(grad(f2)(t) as Tensor, tensor([1, 0], { dtype: 'float64' })));
    const x = tensor([0.3, -0.2], { dtype: 'float64' });
    const r = checkGrad(h, [x]);
    expect(r.maxRelError).toBeLessThan(1e-6);
    expectClose(jit((t: Tensor) => grad(h)(t))(x) as Tensor, grad(h)(x) as Tensor, 1e-12);
  });
  it('bwd returning the wrong number of gradients is a clear error', () => {
    const bad = customVjp((x: Tensor) => mul(x, 2), (x: Tensor) => [mul(x, 2), null], () => []);
    expect(() => grad((x: Tensor) => sum(bad(x)))(tensor([1]))).toThrow(/bwd returned 0 gradient\(s\) for 1 argument/);
  });
  it('stopGradient cuts the graph eagerly and under jit', () => {
    const g = (x: Tensor) => sum(mul(stopGradient(x), x));
    expect((grad(g)(tensor([2, 3])) as Tensor).tolist()).toEqual([2, 3]);
    expect((jit((t: Tensor) => grad(g)(t))(tensor([2, 3])) as Tensor).tolist()).toEqual([2, 3]);
    expect((jit((t: Tensor) => grad((u: Tensor) => sum(mul(u.detach(), u)))(t))(tensor([2, 3])) as Tensor).tolist()).toEqual([2, 3]);
  });
});

class SinWithSaved extends CustomFunction {
  static forward(ctx: FunctionContext & { scale?: number }, x: Tensor, k: number): Tensor {
    ctx.saveForBackward(x);
    ctx.scale = k;
    return mul(sin(x), k);
  }
  static backward(ctx: FunctionContext & { scale?: number }, g: Tensor): (Tensor | null)[] {
    const [x] = ctx.savedTensors;
    return [mul(mul(g, cos(x)), ctx.scale!), null];
  }
}

describe('CustomFunction (class form)', () => {
  const f = (x: Tensor) => sum(SinWithSaved.apply<Tensor>(x, 3));
  const x0 = [0.1, 0.5, -1];
  const want = x0.map((v) => 3 * Math.cos(v));
  it('works with backward(), grad and jit(grad)', () => {
    const x = tensor(x0, { requiresGrad: true });
    f(x).backward();
    expectClose(x.grad!, want, 1e-6);
    expectClose(grad(f)(tensor(x0)) as Tensor, want, 1e-6);
    expectClose(jit((t: Tensor) => grad(f)(t))(tensor(x0)) as Tensor, want, 1e-6);
    expect(checkGrad(f, [tensor(x0)]).maxRelError).toBeLessThan(1e-6);
  });
});
