// jit(f)(x) equals f(x) run eagerly, for the model shapes jit must handle (issue 4 acceptance).
import { describe, expect, it } from 'vitest';
import { jit, cond, whileLoop, scan, matmul, softmax, crossEntropy, conv2d, maxPool2d, dot, Tensor, tensor, add, sub, mul, div, relu, tanh, sigmoid, gt, lt, logicalAnd, neg } from '../../src/index.js';
import { rand, expectClose } from './helpers.js';

type Params = Record<string, Tensor>;

function mlp(p: Params, x: Tensor): Tensor {
  const h = relu(add(matmul(x, p.w1), p.b1));
  return add(matmul(h, p.w2), p.b2);
}

function lstm(p: Params, h0: Tensor, c0: Tensor, xs: Tensor): [[Tensor, Tensor], Tensor] {
  const gate = (x: Tensor, h: Tensor, k: string) => add(add(matmul(x, p[`w${k}`]), matmul(h, p[`u${k}`])), p[`b${k}`]);
  return scan(
    ([h, c]: [Tensor, Tensor], x: Tensor) => {
      const i = sigmoid(gate(x, h, 'i'));
      const f = sigmoid(gate(x, h, 'f'));
      const o = sigmoid(gate(x, h, 'o'));
      const g = tanh(gate(x, h, 'g'));
      const c2 = add(mul(f, c), mul(i, g));
      const h2 = mul(o, tanh(c2));
      return [[h2, c2], h2] as [[Tensor, Tensor], Tensor];
    },
    [h0, c0] as [Tensor, Tensor],
    xs,
  );
}

describe('jit(f)(x) equals f(x)', () => {
  it('MLP forward with a parameter dictionary', () => {
    const p = { w1: rand([16, 32], 1, 0.3), b1: rand([32], 2, 0.1), w2: rand([32, 10], 3, 0.3), b2: rand([10], 4, 0.1) };
    const x = rand([8, 16], 5);
    const f = jit(mlp);
    expectClose(f(p, x), mlp(p, x));
    expectClose(f(p, rand([8, 16], 6)), mlp(p, rand([8, 16], 6)));
    expect(f.stats().traces).toBe(1);
  });

  it('softmax and cross-entropy', () => {
    const logits = rand([6, 5], 7, 3);
    const labels = tensor([0, 4, 2, 1, 3, 2], { dtype: 'int32' });
    const f = (z: Tensor, y: Tensor) => ({ probs: softmax(z), loss: crossEntropy(z, y) });
    const got = jit(f)(logits, labels);
    const want = f(logits, labels);
    expectClose(got.probs, want.probs);
    expectClose(got.loss, want.loss);
  });

  it('a conv block: conv2d, bias, relu, max-pool', () => {
    const x = rand([2, 3, 8, 8], 8);
    const w = rand([4, 3, 3, 3], 9, 0.4);
    const b = rand([4], 10, 0.1);
    const block = (xx: Tensor, ww: Tensor, bb: Tensor) => maxPool2d(relu(conv2d(xx, ww, { padding: 1, bias: bb })), 2);
    const got = jit(block)(x, w, b);
    expect(got.shape).toEqual([2, 4, 4, 4]);
    expectClose(got, block(x, w, b));
  });

  it('an LSTM written with scan', () => {
    const [I, H, B, T] = [4, 6, 3, 5];
    const p: Params = {};
    let seed = 20;
    for (const k of ['i', 'f', 'o', 'g']) {
      p[`w${k}`] = rand([I, H], seed++, 0.5);
      p[`u${k}`] = rand([H, H], seed++, 0.5);
      p[`b${k}`] = rand([H], seed++, 0.1);
    }
    const h0 = rand([B, H], 40, 0.5), c0 = rand([B, H], 41, 0.5), xs = rand([T, B, I], 42);
    const f = jit(lstm);
    const [[h, c], ys] = f(p, h0, c0, xs);
    const [[he, ce], yse] = lstm(p, h0, c0, xs);
    expect(ys.shape).toEqual([T, B, H]);
    expectClose(h, he);
    expectClose(c, ce);
    expectClose(ys, yse);
    expect(f.lower(p, h0, c0, xs).body.ops.filter((o) => o.prim === 'scan').length).toBe(1);
  });

  it('a function with cond', () => {
    const f = (x: Tensor) => cond(gt(dot(x, x), 4), (a: Tensor) => mul(softmax(a), 2), (a: Tensor) => sub(neg(a), 1), x);
    const jf = jit(f);
    for (const [seed, scale] of [[50, 3], [51, 0.1], [52, 3]]) {
      const x = rand([5], seed, scale);
      expectClose(jf(x), f(x));
    }
    expect(jf.stats().traces).toBe(1);
  });

  it('a whileLoop Newton iteration for square roots', () => {
    const newton = (a: Tensor) =>
      whileLoop(
        ([x, i]: [Tensor, Tensor]) => logicalAnd(lt(i, 50), gt(dot(sub(mul(x, x), a), sub(mul(x, x), a)), 1e-8)),
        ([x, i]: [Tensor, Tensor]) => [mul(add(x, div(a, x)), 0.5), add(i, 1)] as [Tensor, Tensor],
        [a, 0] as unknown as [Tensor, Tensor], // the JS 0 becomes an int32 scalar tensor
      );
    const a = tensor([2, 9, 0.25, 7]);
    const [x, iters] = jit(newton)(a);
    const [xe, iterse] = newton(a) as unknown as [Tensor, Tensor];
    expectClose(x, xe);
    expect(iters.dtype).toBe('int32'); // the JS number 0 in the carry becomes an int32 scalar, eagerly too
    expectClose(iters, iterse);
    expectClose(x, tensor([Math.SQRT2, 3, 0.5, Math.sqrt(7)]), 1e-5);
  });
});
