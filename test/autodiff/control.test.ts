// Differentiating through structured control flow: cond and scan (and forLoop, lowered to scan) against
// finite differences through the IR pass and the tape (including tape nodes of cond/scan ops, which jit's
// eager fallback produces); reverse mode through while is a clear error; forward mode goes through while.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { add, div, gt, lt, mul, sin, sub, tanh, abs } from '../../src/frontend/ops/elementwise.js';
import { max, sum } from '../../src/frontend/ops/reduce.js';
import { cond, forLoop, scan, whileLoop } from '../../src/frontend/control.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { inlineFunction, traceToFunction } from '../../src/frontend/tracing.js';
import { grad, jvp } from '../../src/frontend/autograd/functional.js';
import { noGrad } from '../../src/frontend/autograd/tape.js';
import { vjpFunction } from '../../src/passes/autodiff/ir_autodiff.js';
import { jvpFunction } from '../../src/passes/autodiff/jvp.js';
import { verify } from '../../src/ir/verify.js';
import { expectClose, expectGrad, rand, values } from './helpers.js';

const branchy = (x: Tensor, y: Tensor) =>
  sum(cond(gt(sum(x), 0), (a: Tensor, b: Tensor) => mul(mul(a, b), a), (a: Tensor, b: Tensor) => add(sin(a), b), x, y));

const rnn = (h0: Tensor, xs: Tensor, w: Tensor) => {
  const [h, ys] = scan((h: Tensor, x: Tensor) => {
    const next = tanh(add(mul(h, w), x));
    return [next, mul(next, h)] as [Tensor, Tensor];
  }, h0, xs);
  return add(sum(h), sum(ys));
};

/** Runs f's traced IR eagerly through inlineFunction, so the tape records the cond/scan op itself. */
function tapeThroughOps(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor[] {
  const tf = traceToFunction(f, inputs);
  const leaves = inputs.map((x) => noGrad(() => mul(x, 1)).requiresGrad_());
  const [out] = inlineFunction(tf.fn, [...leaves, ...tf.captured]);
  out.backward();
  return leaves.map((l) => l.grad!);
}

describe('cond', () => {
  it('both branches match finite differences (IR pass and tape)', () => {
    expectGrad(branchy, [rand([3], 1, 0.1, 1), rand([3], 2)]);
    expectGrad(branchy, [rand([3], 3, -1, -0.1), rand([3], 4)]);
  });
  it('grad under jit equals eager grad; the tape through a cond op agrees', () => {
    for (const seed of [1, 3]) {
      const x = rand([3], seed, seed === 1 ? 0.1 : -1, seed === 1 ? 1 : -0.1);
      const y = rand([3], seed + 1);
      const eager = grad(branchy, { argnums: [0, 1] })(x, y) as Tensor[];
      const jitted = jit((a: Tensor, b: Tensor) => grad(branchy, { argnums: [0, 1] })(a, b))(x, y) as Tensor[];
      const tape = tapeThroughOps(branchy, [x, y]);
      eager.forEach((g, i) => {
        expectClose(jitted[i], g, 1e-12);
        expectClose(tape[i], g, 1e-12);
      });
    }
  });
});

describe('scan', () => {
  it('an RNN-like scan matches finite differences (IR pass and tape)', () => {
    expectGrad(rnn, [rand([2], 5), rand([4, 2], 6), rand([2], 7)]);
  });
  it('reverse scan, integer carries and a zero-length scan', () => {
    const f = (h0: Tensor, xs: Tensor) => {
      const [[h], ys] = scan(([h, i]: [Tensor, Tensor], x: Tensor) => [[mul(add(h, x), 0.9), add(i, 1)], sin(mul(h, x))] as [[Tensor, Tensor], Tensor], [h0, 0] as unknown as [Tensor, Tensor], xs, { reverse: true });
      return add(sum(h), sum(ys));
    };
    expectGrad(f, [rand([3], 8), rand([5, 3], 9)]);
    const empty = (h0: Tensor, xs: Tensor) => sum(scan((h: Tensor, x: Tensor) => [add(h, x), h] as [Tensor, Tensor], h0, xs)[0]);
    expectGrad(empty, [rand([2], 10), rand([0, 2], 11)], { mode: 'ir' });
  });
  it('forLoop (lowered to scan) is differentiable', () => {
    const f = (x: Tensor) => sum(forLoop(0, 4, (_i: unknown, c: Tensor) => sin(mul(c, 1.3)), x));
    expectGrad(f, [rand([3], 12)]);
  });
  it('grad under jit equals eager grad; the tape through a scan op agrees', () => {
    const args = [rand([2], 5), rand([4, 2], 6), rand([2], 7)];
    const eager = grad(rnn, { argnums: [0, 1, 2] })(...args) as Tensor[];
    const jitted = jit((...a: Tensor[]) => grad(rnn, { argnums: [0, 1, 2] })(...a))(...args) as Tensor[];
    const tape = tapeThroughOps(rnn, args);
    eager.forEach((g, i) => {
      expectClose(jitted[i], g, 1e-12);
      expectClose(tape[i], g, 1e-12);
    });
  });
  it('the VJP function of a scan verifies and carries one reverse scan', () => {
    const tf = traceToFunction(rnn, [rand([2], 5), rand([4, 2], 6), rand([2], 7)]);
    const v = vjpFunction(tf.fn, [0, 1, 2]);
    verify(v);
    const scans = v.body.ops.filter((o) => o.prim === 'scan');
    expect(scans.map((o) => o.attrs.reverse)).toEqual([false, true]);
  });
});

const newtonSqrt = (a: Tensor) =>
  whileLoop((y: Tensor) => gt(max(abs(sub(mul(y, y), a))), 1e-12), (y: Tensor) => mul(0.5, add(y, div(a, y))), a);

describe('while', () => {
  it('reverse mode through whileLoop under tracing is a clear error', () => {
    const f = (a: Tensor) => sum(newtonSqrt(a));
    const a = tensor([2, 9], { dtype: 'float64' });
    expect(() => jit((t: Tensor) => grad(f)(t))(a)).toThrow(/while: reverse-mode differentiation through an unbounded while loop is not supported.*forLoop or scan/);
    expect(() => vjpFunction(traceToFunction(f, [a]).fn, [0])).toThrow(/forLoop or scan/);
  });
  it('a while that does not depend on the differentiated input is fine', () => {
    const f = (a: Tensor, b: Tensor) => sum(mul(newtonSqrt(b), a));
    const a = tensor([1, 2], { dtype: 'float64' });
    const b = tensor([4, 9], { dtype: 'float64' });
    expect(values(jit((x: Tensor, y: Tensor) => grad(f)(x, y))(a, b) as Tensor)).toEqual([2, 3]);
  });
  it('forward mode (jvp) goes through while: d sqrt(a) = 1 / (2 sqrt a)', () => {
    const a = tensor([2, 9], { dtype: 'float64' });
    const [out, t] = jvp(newtonSqrt, [a], [tensor([1, 1], { dtype: 'float64' })]);
    expectClose(out, [Math.SQRT2, 3], 1e-12);
    expectClose(t, [1 / (2 * Math.SQRT2), 1 / 6], 1e-9);
    const [, tj] = jit((x: Tensor, dx: Tensor) => jvp(newtonSqrt, [x], [dx]))(a, tensor([1, 1], { dtype: 'float64' })) as [Tensor, Tensor];
    expectClose(tj, t, 1e-12);
    verify(jvpFunction(traceToFunction(newtonSqrt, [a]).fn));
  });
  it('jvp through cond and scan agrees with grad (directional derivative)', () => {
    const args = [rand([2], 5), rand([4, 2], 6), rand([2], 7)];
    const dirs = [rand([2], 15), rand([4, 2], 16), rand([2], 17)];
    const g = grad(rnn, { argnums: [0, 1, 2] })(...args) as Tensor[];
    const want = g.reduce((s, gi, i) => s + values(gi).reduce((t, v, k) => t + v * values(dirs[i])[k], 0), 0);
    const [, t] = jvp(rnn, args, dirs);
    expect((t as Tensor).item()).toBeCloseTo(want, 10);
    const x = rand([3], 1, 0.1, 1);
    const y = rand([3], 2);
    const gb = grad(branchy, { argnums: [0, 1] })(x, y) as Tensor[];
    const [, tb] = jvp(branchy, [x, y], [rand([3], 3), rand([3], 4)]);
    const wantB = values(gb[0]).reduce((s, v, k) => s + v * values(rand([3], 3))[k], 0) + values(gb[1]).reduce((s, v, k) => s + v * values(rand([3], 4))[k], 0);
    expect((tb as Tensor).item()).toBeCloseTo(wantB, 10);
  });
});

describe('jit with inputs requiring grad (eager fallback records control-flow ops on the tape)', () => {
  it('backward through a jitted function with scan and cond', () => {
    const f = jit((h0: Tensor, xs: Tensor, w: Tensor) => add(rnn(h0, xs, w), branchy(w, h0)));
    const args = [rand([2], 5), rand([4, 2], 6), rand([2], 7)];
    const leaves = args.map((a) => noGrad(() => mul(a, 1)).requiresGrad_());
    (f(leaves[0], leaves[1], leaves[2]) as Tensor).backward();
    const want = grad((a: Tensor, b: Tensor, c: Tensor) => add(rnn(a, b, c), branchy(c, a)), { argnums: [0, 1, 2] })(...args) as Tensor[];
    leaves.forEach((l, i) => expectClose(l.grad!, want[i], 1e-12));
  });
});
