// Structured control flow: eager runs plain JS, traced records one op with closed regions; results agree.
import { describe, expect, it } from 'vitest';
import { jit, makeIR, cond, whileLoop, forLoop, scan, Tensor, tensor, add, sub, mul, neg, gt, lt, exp } from '../../src/index.js';
import { printFunction } from '../../src/ir/printer.js';
import { verify } from '../../src/ir/verify.js';
import type { Function } from '../../src/ir/function.js';
import { vals, expectClose, rand } from './helpers.js';

const prims = (fn: Function) => fn.body.ops.map((o) => o.prim);

describe('cond', () => {
  const f = (x: Tensor, k: Tensor) => cond(gt(x.sum(), 0), (a: Tensor) => mul(a, k), (a: Tensor) => neg(a), x);

  it('runs one branch eagerly and both under jit, with equal results', () => {
    const k = tensor([3, 4]);
    for (const xs of [[1, 2], [-1, -2]]) expectClose(jit(f)(tensor(xs), k), f(tensor(xs), k));
  });

  it('records one cond op whose regions are closed: closures become extra operands', () => {
    const fn = makeIR(f)(tensor([1, 2]), tensor([3, 4]));
    verify(fn);
    expect(prims(fn)).toEqual(['reduce_sum', 'constant', 'gt', 'cond']);
    const op = fn.body.ops[3];
    // pred, the operand x, then k captured by the true branch
    expect(op.operands.map((v) => v.id)).toEqual([fn.body.ops[2].results[0].id, fn.body.params[0].id, fn.body.params[1].id]);
    expect(op.regions.map((r) => r.params.length)).toEqual([2, 2]);
    expect(printFunction(fn)).toContain('cond');
  });

  it('takes a concrete predicate in JS even under a trace', () => {
    const g = (x: Tensor) => cond(true, (a: Tensor) => exp(a), (a: Tensor) => a, x);
    expect(prims(makeIR(g)(tensor([1])))).toEqual(['exp']);
    const h = (x: Tensor, p: Tensor) => cond(p, (a: Tensor) => exp(a), (a: Tensor) => a, x);
    expect(prims(makeIR(h)(tensor([1]), tensor(true)))).toContain('cond');
  });

  it('carries pytrees through and turns JS numbers in results into constants', () => {
    const g = (p: { a: Tensor; b: Tensor }) =>
      cond(gt(p.a.sum(), 0), (q: typeof p) => ({ s: add(q.a, q.b), n: 1 }), (q: typeof p) => ({ s: sub(q.a, q.b), n: 2 }), p);
    const p = { a: tensor([1, 2]), b: tensor([5, 5]) };
    const got = jit(g)(p);
    expect(vals(got.s)).toEqual([6, 7]);
    expect(vals(got.n as unknown as Tensor)).toEqual([1]);
  });

  it('names mismatched branches', () => {
    const bad = (x: Tensor) => cond<unknown>(gt(x.sum(), 0), (a: Tensor) => [a, a], (a: Tensor) => a, x);
    expect(() => makeIR(bad)(tensor([1]))).toThrow(/cond: the branches return different structures: \[tensor,tensor\] vs tensor/);
    const badType = (x: Tensor) => cond(gt(x.sum(), 0), (a: Tensor) => a, (a: Tensor) => a.sum(), x);
    expect(() => makeIR(badType)(tensor([1, 2]))).toThrow(/cond: branches return different types: \(f32\[2\]\) vs \(f32\[\]\)/);
  });
});

describe('whileLoop', () => {
  const collatzLike = (x: Tensor) =>
    whileLoop(
      ({ v }: { v: Tensor; n: Tensor }) => gt(v.sum(), 1),
      ({ v, n }: { v: Tensor; n: Tensor }) => ({ v: mul(v, 0.5), n: add(n, 1) }),
      { v: x, n: 0 } as unknown as { v: Tensor; n: Tensor },
    );

  it('loops in JS eagerly and as one while op traced, with equal results', () => {
    const x = tensor([8, 24]);
    const e = collatzLike(x);
    const j = jit(collatzLike)(x);
    expectClose(j.v, e.v);
    expectClose(j.n, e.n);
    expect(vals(j.n)).toEqual([5]);
    const fn = makeIR(collatzLike)(x);
    verify(fn);
    expect(prims(fn)).toEqual(['constant', 'while']);
  });

  it('passes captured values through the loop as extra carries', () => {
    const step = tensor([2, 3]);
    const f = (x: Tensor) => whileLoop((c: Tensor) => lt(c.sum(), 50), (c: Tensor) => add(c, step), x);
    expectClose(jit(f)(tensor([0.5, 0.5])), f(tensor([0.5, 0.5])));
    const op = makeIR(f)(tensor([0.5, 0.5])).body.ops.find((o) => o.prim === 'while')!;
    expect(op.operands.length).toBe(2);
    expect(op.results.length).toBe(2);
  });

  it('names a body that changes the carry', () => {
    const bad = (x: Tensor) => whileLoop((c: Tensor) => lt(c.sum(), 5), (c: Tensor) => [c, c] as unknown as Tensor, x);
    expect(() => makeIR(bad)(tensor([1]))).toThrow(/whileLoop: the body must return the structure of the carry/);
    const badType = (x: Tensor) => whileLoop((c: Tensor) => lt(c.sum(), 5), (c: Tensor) => c.sum(), x);
    expect(() => makeIR(badType)(tensor([1, 2]))).toThrow(/whileLoop: the body must return the carry types: carry 0 is f32\[2\] but the body returns f32\[\]/);
  });
});

describe('scan', () => {
  const cumulative = (init: Tensor, xs: { a: Tensor; b: Tensor }) =>
    scan((c: Tensor, x: { a: Tensor; b: Tensor }) => {
      const next = add(mul(c, x.a), x.b);
      return [next, { next, double: mul(next, 2) }] as [Tensor, { next: Tensor; double: Tensor }];
    }, init, xs);

  it('stacks pytree outputs, eagerly and traced alike', () => {
    const init = rand([3], 1);
    const xs = { a: rand([4, 3], 2), b: rand([4, 3], 3) };
    const [c, ys] = cumulative(init, xs);
    const [cj, ysj] = jit(cumulative)(init, xs);
    expect(ysj.next.shape).toEqual([4, 3]);
    expectClose(cj, c);
    expectClose(ysj.next, ys.next);
    expectClose(ysj.double, ys.double);
    expect(prims(makeIR(cumulative)(init, xs))).toEqual(['scan']);
  });

  it('runs in reverse and with no xs (length option)', () => {
    const f = (xs: Tensor) => scan((c: Tensor, x: Tensor) => [add(mul(c, 10), x), c] as [Tensor, Tensor], tensor(0), xs, { reverse: true });
    const xs = tensor([1, 2, 3]);
    const [c, ys] = f(xs);
    expect(vals(c)).toEqual([321]);
    expect(vals(ys)).toEqual([32, 3, 0]);
    const [cj, ysj] = jit(f)(xs);
    expectClose(cj, c);
    expectClose(ysj, ys);
    const count = (x: Tensor) => scan((c: Tensor) => [add(c, x), null] as [Tensor, null], x, null, { length: 4 });
    expect(vals(jit(count)(tensor([1]))[0])).toEqual([5]);
    expect(vals(count(tensor([1]))[0])).toEqual([5]);
  });

  it('handles zero steps: the carry passes through, ys are empty', () => {
    const f = (xs: Tensor) => scan((c: Tensor, x: Tensor) => [add(c, x), mul(x, 2)] as [Tensor, Tensor], tensor(1), xs);
    const none = tensor([]);
    expect(none.shape).toEqual([0]);
    for (const [c, ys] of [f(none), jit(f)(none)]) {
      expect(vals(c)).toEqual([1]);
      expect(ys.shape).toEqual([0]);
      expect(ys.dtype).toBe('float32');
    }
  });

  it('names inconsistent lengths', () => {
    expect(() => scan((c: Tensor, x: Tensor[]) => [c, null], tensor(0), [tensor([1, 2]), tensor([1, 2, 3])])).toThrow(/scan: scanned inputs disagree on the length: 2 vs 3/);
  });
});

describe('forLoop', () => {
  const poly = (x: Tensor) => forLoop(1, 4, (i: number | Tensor, acc: Tensor) => add(mul(acc, x), i), tensor(0));

  it('passes a JS counter eagerly and lowers to scan traced (static trip count)', () => {
    const x = tensor(2);
    expect(vals(poly(x))).toEqual([11]); // ((0*2+1)*2+2)*2+3
    expect(vals(jit(poly)(x))).toEqual([11]);
    const fn = makeIR(poly)(x);
    verify(fn);
    expect(prims(fn)).toContain('scan');
    expect(prims(fn)).not.toContain('while');
  });

  it('nests control flow: cond inside a forLoop inside jit', () => {
    const f = (x: Tensor) =>
      forLoop(0, 5, (i: number | Tensor, c: Tensor) => cond(gt(c.sum(), 10), (a: Tensor) => sub(a, 3), (a: Tensor) => add(a, x), c), x);
    const x = tensor([1, 2]);
    expectClose(jit(f)(x), f(x));
  });
});
